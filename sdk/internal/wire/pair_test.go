package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/hcl/v2"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// pair connects a host side client to plugin side servers over a real
// socket, as go-plugin does between processes.
func pair(t *testing.T, tr transport.Transport, svc service.Service) (*plugin.GRPCClient, *plugin.GRPCServer) {
	t.Helper()
	ps := plugin.PluginSet{}
	if tr != nil {
		ps["base"] = &BasePlugin{Impl: tr}
		ps["transport"] = &TransportPlugin{Impl: tr}
	}
	if svc != nil {
		ps["base"] = &BasePlugin{Impl: svc}
		ps["service"] = &ServicePlugin{Impl: svc}
	}
	client, server := plugin.TestPluginGRPCConn(t, false, ps)
	t.Cleanup(func() {
		// Close shuts the server down through go-plugin's controller.
		_ = client.Close()
	})
	return client, server
}

func dispenseTransport(t *testing.T, c *plugin.GRPCClient) *TransportClient {
	t.Helper()
	raw, err := c.Dispense("transport")
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*TransportClient)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestBaseInfoBeforeConfigure(t *testing.T) {
	f := newFake()
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	info, err := tc.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "fake" || info.Kind != base.KindTransport || info.Version != "0.1.0" ||
		len(info.APIVersions) != 1 || info.APIVersions[0] != 1 || info.Capabilities[0] != "echo" {
		t.Fatalf("info %+v", info)
	}
	raw, err := c.Dispense("base")
	if err != nil {
		t.Fatal(err)
	}
	bp := raw.(base.Plugin)
	cfg := base.Config{Filename: "config.hcl", Start: hcl.Pos{Line: 12, Column: 5, Byte: 301}, Body: []byte(`x = 1`), DataDir: "/var/lib/x"}
	if err := bp.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	got := f.cfg
	f.mu.Unlock()
	if got.Filename != cfg.Filename || got.Start != cfg.Start || !bytes.Equal(got.Body, cfg.Body) || got.DataDir != cfg.DataDir {
		t.Fatalf("plugin got config %+v, want %+v", got, cfg)
	}
	err = bp.Configure(ctx, base.Config{Body: []byte("fail")})
	if !errors.Is(err, envelope.ErrInvalid) || !strings.Contains(err.Error(), "fake: config") {
		t.Fatalf("configure error %v: want the plugin's message and class", err)
	}
	// The plugin's own cancellations and foreign gRPC errors are its
	// errors, not a sign that it is gone.
	err = bp.Configure(ctx, base.Config{Body: []byte("canceled")})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrPluginGone) {
		t.Fatalf("plugin-side cancellation: %v", err)
	}
	err = bp.Configure(ctx, base.Config{Body: []byte("unavailable")})
	if errors.Is(err, ErrPluginGone) || !strings.Contains(err.Error(), "upstream daemon down") {
		t.Fatalf("plugin's own gRPC error: %v", err)
	}
}

func TestTransportLifecycle(t *testing.T) {
	f := newFake()
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	h := newRecHost()
	if err := tc.Send(ctx, []transport.Packet{{Addr: "a", Data: []byte("x")}}); !errors.Is(err, errNotRunning) {
		t.Fatalf("send before start: %v", err)
	}
	addrs, err := tc.Start(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(addrs, ",") != "fake:1,fake:2" {
		t.Fatalf("addresses %v", addrs)
	}
	if _, err := tc.Start(ctx, h); err == nil {
		t.Fatal("second start accepted")
	}

	// Many concurrent senders: everything arrives, each Send's packets in order.
	const senders, per = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				p := transport.Packet{Addr: fmt.Sprintf("peer%d", s), Data: []byte(fmt.Sprintf("%d/%d", s, i))}
				if err := tc.Send(ctx, []transport.Packet{p}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := f.sentCount(); n != senders*per {
		t.Fatalf("plugin got %d packets, want %d", n, senders*per)
	}
	next := map[string]int{}
	f.mu.Lock()
	for _, p := range f.sent {
		var s, i int
		fmt.Sscanf(string(p.Data), "%d/%d", &s, &i)
		if p.Addr != fmt.Sprintf("peer%d", s) || i != next[p.Addr] {
			t.Fatalf("packet %q to %s out of order (want index %d)", p.Data, p.Addr, next[p.Addr])
		}
		next[p.Addr]++
	}
	f.mu.Unlock()

	// A big Send is split across messages but all of it arrives.
	big := make([]transport.Packet, 3*MaxBatchPackets+7)
	for i := range big {
		big[i] = transport.Packet{Addr: "bulk", Data: bytes.Repeat([]byte{byte(i)}, 2048)}
	}
	if err := tc.Send(ctx, big); err != nil {
		t.Fatal(err)
	}
	if n := f.sentCount(); n != senders*per+len(big) {
		t.Fatalf("after bulk: %d packets", n)
	}

	if err := tc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Events: the start ones (emitted before Start returned), ready, then
	// the stop event, in order, all before Stop returned.
	evs, _ := h.snapshot()
	var phases []string
	for _, ev := range evs {
		phases = append(phases, ev.State.String()+":"+ev.Phase)
		if ev.Time.IsZero() {
			t.Fatal("event without time")
		}
	}
	want := "starting:step0 starting:step1 starting:step2 starting:step3 starting:step4 ready: stopped:"
	if strings.Join(phases, " ") != want {
		t.Fatalf("events %v\nwant %s", phases, want)
	}
	if evs[5].Peers != 3 || evs[5].Progress != 100 || evs[6].Summary != "bye" {
		t.Fatalf("event fields lost: %+v", evs)
	}
	if err := tc.Send(ctx, []transport.Packet{{Addr: "a"}}); !errors.Is(err, errNotRunning) {
		t.Fatalf("send after stop: %v", err)
	}
	if err := tc.Stop(ctx); err != nil {
		t.Fatalf("second stop: %v", err)
	}

	// And it starts again.
	h2 := newRecHost()
	if _, err := tc.Start(ctx, h2); err != nil {
		t.Fatal(err)
	}
	if err := tc.Send(ctx, []transport.Packet{{Addr: "echo", Data: []byte("again")}}); err != nil {
		t.Fatal(err)
	}
	<-h2.got
	if _, pk := h2.snapshot(); len(pk) != 1 || string(pk[0].Data) != "again" {
		t.Fatalf("restarted run delivered %v", pk)
	}
	if err := tc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStartFailureReportsEvents(t *testing.T) {
	f := newFake()
	f.startErr = errors.New("fake: start: tor would not bootstrap")
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	h := newRecHost()
	_, err := tc.Start(ctx, h)
	if err == nil || !strings.Contains(err.Error(), "tor would not bootstrap") || errors.Is(err, ErrPluginGone) {
		t.Fatalf("start error %v", err)
	}
	evs, _ := h.snapshot()
	if len(evs) == 0 || evs[len(evs)-1].State != transport.StateFailed || evs[len(evs)-1].Reason != "bootstrap refused" {
		t.Fatalf("failed event did not reach the host before Start returned: %+v", evs)
	}
}

func TestSendRefusedOnlyForItsCaller(t *testing.T) {
	f := newFake()
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	if _, err := tc.Start(ctx, newRecHost()); err != nil {
		t.Fatal(err)
	}
	defer tc.Stop(ctx)
	var wg sync.WaitGroup
	var badErrs, goodErrs []error
	var mu sync.Mutex
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := "ok"
			if i%4 == 0 {
				addr = "bad"
			}
			err := tc.Send(ctx, []transport.Packet{{Addr: addr, Data: []byte("x")}})
			mu.Lock()
			defer mu.Unlock()
			if addr == "bad" {
				badErrs = append(badErrs, err)
			} else {
				goodErrs = append(goodErrs, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range goodErrs {
		if err != nil {
			t.Fatalf("good send failed: %v", err)
		}
	}
	for _, err := range badErrs {
		if err == nil || !strings.Contains(err.Error(), `malformed address "bad"`) || !strings.HasPrefix(err.Error(), "transport: send: ") {
			t.Fatalf("bad send: %v", err)
		}
	}
	err := tc.Send(ctx, []transport.Packet{{Addr: "x", Data: make([]byte, transport.MaxPacketSize+1)}})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversize packet: %v", err)
	}
}

// A host whose Deliver is stuck must still be able to complete its sends:
// send results do not queue behind received packets.
func TestSlowDeliverDoesNotBlockSends(t *testing.T) {
	f := newFake()
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	h := newRecHost()
	h.block = make(chan struct{})
	if _, err := tc.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := range n {
		if err := tc.Send(ctx, []transport.Packet{{Addr: "echo", Data: []byte(fmt.Sprint(i))}}); err != nil {
			t.Fatalf("send %d while deliver blocked: %v", i, err)
		}
	}
	<-h.entered // the host is indeed stuck in Deliver
	close(h.block)
	deadline := time.After(15 * time.Second)
	for {
		_, pk := h.snapshot()
		if len(pk) == n {
			for i, p := range pk {
				if string(p.Data) != fmt.Sprint(i) {
					t.Fatalf("delivered packet %d is %q", i, p.Data)
				}
			}
			break
		}
		select {
		case <-h.got:
		case <-deadline:
			t.Fatalf("delivered %d of %d", len(pk), n)
		}
	}
	if err := tc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSendUnary(t *testing.T) {
	f := newFake()
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	if _, err := tc.Start(ctx, newRecHost()); err != nil {
		t.Fatal(err)
	}
	defer tc.Stop(ctx)
	if err := tc.SendUnary(ctx, []transport.Packet{{Addr: "u", Data: []byte("1")}, {Addr: "u", Data: []byte("2")}}); err != nil {
		t.Fatal(err)
	}
	if f.sentCount() != 2 {
		t.Fatalf("sent %d", f.sentCount())
	}
	if err := tc.SendUnary(ctx, []transport.Packet{{Addr: "bad"}}); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("unary refusal: %v", err)
	}
}

func TestDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// Echo until the client half-closes, then say goodbye.
				_, _ = io.Copy(c, c)
				_, _ = c.Write([]byte("bye"))
				_ = c.Close()
			}()
		}
	}()

	c, _ := pair(t, dialingFake{newFake()}, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	conn, err := tc.Dial(ctx, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if conn.RemoteAddr().String() != ln.Addr().String() || conn.LocalAddr().String() == "" {
		t.Fatalf("addrs %v %v", conn.LocalAddr(), conn.RemoteAddr())
	}
	msg := bytes.Repeat([]byte("0123456789"), 20000) // several frames
	go func() { _, _ = conn.Write(msg) }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo differs")
	}
	// Read deadline: nothing is coming, so the read times out.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, errDeadline()) {
		t.Fatalf("read past deadline: %v", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	if err := conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(conn)
	if err != nil || string(rest) != "bye" {
		t.Fatalf("after half-close got %q, %v", rest, err)
	}
	_ = conn.Close()
	if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}

	// The plugin's dial error comes back; so does refusal.
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln2.Addr().String()
	ln2.Close()
	if _, err := tc.Dial(ctx, dead); err == nil || !strings.Contains(err.Error(), "fake: dial") || errors.Is(err, ErrPluginGone) {
		t.Fatalf("dial to closed port: %v", err)
	}
}

func TestDialUnsupported(t *testing.T) {
	c, _ := pair(t, newFake(), nil)
	tc := dispenseTransport(t, c)
	_, err := tc.Dial(ctxT(t), "127.0.0.1:1")
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("dial on a transport without Dialer: %v", err)
	}
}

func TestPluginGone(t *testing.T) {
	f := newFake()
	c, server := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	h := newRecHost()
	if _, err := tc.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := tc.Send(ctx, []transport.Packet{{Addr: "a", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	server.Stop()
	// Sends in flight or after: the sentinel, never a hang.
	for range 3 {
		err := tc.Send(ctx, []transport.Packet{{Addr: "a", Data: []byte("x")}})
		if !errors.Is(err, ErrPluginGone) {
			t.Fatalf("send after the plugin went away: %v", err)
		}
	}
	checks := map[string]error{}
	_, checks["info"] = tc.Info(ctx)
	checks["configure"] = tc.Configure(ctx, base.Config{})
	checks["stop"] = tc.Stop(ctx)
	_, checks["start"] = tc.Start(ctx, h)
	_, checks["dial"] = tc.Dial(ctx, "x:1")
	checks["unary"] = tc.SendUnary(ctx, nil)
	for name, err := range checks {
		if !errors.Is(err, ErrPluginGone) {
			t.Errorf("%s: %v, want ErrPluginGone", name, err)
		}
	}
}

// floodTransport emits many progress events and one blocked event while
// starting, faster than a stuck host takes them.
type floodTransport struct {
	*fakeTransport
	n int
}

func (f floodTransport) Start(_ context.Context, h transport.Host) ([]string, error) {
	for i := range f.n {
		h.Event(transport.Event{State: transport.StateStarting, Progress: i})
		if i == f.n/2 {
			h.Event(transport.Event{State: transport.StateBlocked, Reason: "connection reset"})
		}
	}
	h.Event(transport.Event{State: transport.StateReady})
	return nil, nil
}

type slowEventHost struct {
	*recHost
	release chan struct{}
}

func (h slowEventHost) Event(ev transport.Event) {
	<-h.release
	h.recHost.Event(ev)
}

func TestEventsOverflowDropsProgressOnly(t *testing.T) {
	const n = 50000
	c, _ := pair(t, floodTransport{newFake(), n}, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	h := slowEventHost{newRecHost(), make(chan struct{})}
	if _, err := tc.Start(ctx, h); err != nil { // Start never waits for Host.Event
		t.Fatal(err)
	}
	close(h.release)
	if err := tc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	evs, _ := h.snapshot()
	blocked, ready, last := 0, 0, -1
	for _, ev := range evs {
		switch ev.State {
		case transport.StateBlocked:
			blocked++
		case transport.StateReady:
			ready++
		case transport.StateStarting:
			if ev.Progress <= last {
				t.Fatalf("progress %d after %d: order lost", ev.Progress, last)
			}
			last = ev.Progress
		}
	}
	if blocked != 1 || ready != 1 {
		t.Fatalf("got %d blocked and %d ready events, want 1 each", blocked, ready)
	}
	dropped := tc.DroppedEvents()
	if dropped == 0 || int(dropped)+len(evs) != n+2 {
		t.Fatalf("%d delivered + %d dropped != %d emitted", len(evs), dropped, n+2)
	}
	if last != n-1 {
		t.Fatalf("newest progress %d lost", last)
	}
}
