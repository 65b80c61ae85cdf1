package sdk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/transport"
)

type hostRec struct {
	events  chan transport.Event
	packets chan transport.Packet
}

func newHostRec() *hostRec {
	return &hostRec{events: make(chan transport.Event, 64), packets: make(chan transport.Packet, 4096)}
}

func (h *hostRec) Deliver(_ context.Context, pkts []transport.Packet) error {
	for _, p := range pkts {
		h.packets <- transport.Packet{Addr: p.Addr, Data: append([]byte(nil), p.Data...)}
	}
	return nil
}

func (h *hostRec) Event(ev transport.Event) { h.events <- ev }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond (a real process is on the other side) up to a generous
// bound that only guards against a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestSubprocessTransport(t *testing.T) {
	logs := &syncBuffer{}
	dir := t.TempDir()
	c, rpc := startSubprocess(t, logs, testMarkDirEnv+"="+dir)
	ctx := testCtx(t)

	b, err := DispenseBase(rpc)
	if err != nil {
		t.Fatal(err)
	}
	info, err := b.Info(ctx)
	if err != nil || info.Name != "sink" || info.Kind != base.KindTransport || info.APIVersions[0] != APIVersion {
		t.Fatalf("info %+v %v", info, err)
	}
	tr, err := DispenseTransport(rpc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DispenseService(rpc); err != nil {
		t.Fatalf("dispensing is lazy and should not fail: %v", err)
	}
	h := newHostRec()
	addrs, err := tr.Start(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	pid := c.ReattachConfig().Pid
	if len(addrs) != 1 || addrs[0] != fmt.Sprintf("sink:%d", pid) {
		t.Fatalf("addresses %v, plugin pid %d", addrs, pid)
	}
	if ev := <-h.events; ev.State != transport.StateReady {
		t.Fatalf("first event %+v", ev)
	}
	pkts := make([]transport.Packet, 100)
	for i := range pkts {
		pkts[i] = transport.Packet{Addr: "echo", Data: []byte(fmt.Sprint(i))}
	}
	if err := tr.Send(ctx, pkts); err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		p := <-h.packets
		if string(p.Data) != fmt.Sprint(i) || p.Addr != "echo" {
			t.Fatalf("echo %d: %q from %q", i, p.Data, p.Addr)
		}
	}
	if _, err := tr.Dial(ctx, "127.0.0.1:1"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("dial: %v", err)
	}
	if err := tr.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "plugin log line", func() bool { return strings.Contains(logs.String(), "transport started") })
	// The host parsed the JSON line: re-levelled, with the plugin's name.
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "transport started") {
			line = l
		}
	}
	if !strings.Contains(line, "[INFO]") || !strings.Contains(line, "@module=sink") {
		t.Fatalf("plugin log line not parsed by the host: %q", line)
	}

	// A graceful Kill ends Serve, which stops the transport again.
	_ = os.Remove(filepath.Join(dir, "stopped"))
	c.Kill()
	if _, err := os.Stat(filepath.Join(dir, "stopped")); err != nil {
		t.Fatalf("plugin did not stop its transport on shutdown: %v", err)
	}
}

func TestSubprocessCrashIsPluginGone(t *testing.T) {
	c, rpc := startSubprocess(t, nil)
	ctx := testCtx(t)
	tr, err := DispenseTransport(rpc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Start(ctx, newHostRec()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(ctx, []transport.Packet{{Addr: "x", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(c.ReattachConfig().Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "plugin exit", c.Exited)
	err = tr.Send(ctx, []transport.Packet{{Addr: "x", Data: []byte("x")}})
	if !errors.Is(err, ErrPluginGone) {
		t.Fatalf("send to a killed plugin: %v", err)
	}
	if _, err := tr.Info(ctx); !errors.Is(err, ErrPluginGone) {
		t.Fatalf("info from a killed plugin: %v", err)
	}
	if err := tr.Stop(ctx); !errors.Is(err, ErrPluginGone) {
		t.Fatalf("stop of a killed plugin: %v", err)
	}
}

// The plugin exits (after stopping its transport) when the process named by
// ONEMFIVE_PARENT_PID goes away, even though its real parent lives on.
func TestSubprocessWatchdog(t *testing.T) {
	fakeHost := exec.Command("sleep", "60")
	if err := fakeHost.Start(); err != nil {
		t.Skipf("no sleep binary: %v", err)
	}
	dir := t.TempDir()
	c, rpc := startSubprocess(t, nil, ParentPIDEnv+"="+fmt.Sprint(fakeHost.Process.Pid), testMarkDirEnv+"="+dir)
	tr, err := DispenseTransport(rpc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Info(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if c.Exited() {
		t.Fatal("plugin exited while its host was alive")
	}
	_ = fakeHost.Process.Kill()
	_ = fakeHost.Wait() // reap, or it lingers as a zombie that still "exists"
	waitFor(t, "plugin to notice its host is gone", c.Exited)
	if _, err := os.Stat(filepath.Join(dir, "stopped")); err != nil {
		t.Fatalf("watchdog exit did not stop the transport: %v", err)
	}
}

type auditHost struct {
	got chan *envelope.Envelope
}

func (h auditHost) Send(_ context.Context, env *envelope.Envelope) error {
	h.got <- env
	return nil
}

// A service in a real process calls back into the host through the
// go-plugin broker (over AutoMTLS), and dies into ErrPluginGone.
func TestSubprocessService(t *testing.T) {
	c, rpc := startSubprocessKind(t, "service", nil)
	ctx := testCtx(t)
	svc, err := DispenseService(rpc)
	if err != nil {
		t.Fatal(err)
	}
	info, err := svc.Info(ctx)
	if err != nil || info.Kind != base.KindService || info.Name != "echo" {
		t.Fatalf("info %+v %v", info, err)
	}
	h := auditHost{got: make(chan *envelope.Envelope, 8)}
	if err := svc.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	in := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindService, From: "app", To: "echo", Payload: []byte("hi")}
	replies, err := svc.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 1 || replies[0].To != "app" || string(replies[0].Payload) != "hi" {
		t.Fatalf("replies %+v", replies)
	}
	if note := <-h.got; note.To != "audit" || string(note.Payload) != in.ID {
		t.Fatalf("callback %+v", note)
	}
	if err := syscall.Kill(c.ReattachConfig().Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "plugin exit", c.Exited)
	if _, err := svc.Handle(ctx, in); !errors.Is(err, ErrPluginGone) {
		t.Fatalf("handle on a killed plugin: %v", err)
	}
}
