package lan

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// loBody configures a transport on loopback only: lo cannot multicast or
// broadcast, so discovery goes to unicast targets.
func loBody(port int, unicast ...string) string {
	var u []string
	for _, a := range unicast {
		u = append(u, fmt.Sprintf("%q", a))
	}
	return fmt.Sprintf("interfaces = [\"lo\"]\nlisten_port = 0\nport = %d\nipv6 = false\nannounce_interval = \"200ms\"\nunicast = [%s]\n",
		port, strings.Join(u, ", "))
}

func newConfigured(t testing.TB, body string) *Transport {
	t.Helper()
	tr := New(WithLogger(hclog.NewNullLogger()))
	if err := tr.Configure(context.Background(), base.Config{Filename: "test.hcl", Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transport.Transport { return newConfigured(t, loBody(0)) })
}

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// discHost records packets, events and discoveries.
type discHost struct {
	*transporttest.Recorder
	mu   sync.Mutex
	disc []discovery
	got  chan struct{}
}

type discovery struct {
	addr   string
	record []byte
}

func newDiscHost() *discHost {
	return &discHost{Recorder: new(transporttest.Recorder), got: make(chan struct{}, 64)}
}

func (h *discHost) Discovered(_ context.Context, addr string, record []byte) error {
	h.mu.Lock()
	h.disc = append(h.disc, discovery{addr, bytes.Clone(record)})
	h.mu.Unlock()
	h.got <- struct{}{}
	return nil
}

func (h *discHost) discoveries() []discovery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]discovery(nil), h.disc...)
}

func (h *discHost) wait(t *testing.T, n int) []discovery {
	t.Helper()
	deadline := time.After(transporttest.Timeout)
	for {
		if d := h.discoveries(); len(d) >= n {
			return d
		}
		select {
		case <-h.got:
		case <-deadline:
			t.Fatalf("got %d discoveries, want %d", len(h.discoveries()), n)
		}
	}
}

type lanNode struct {
	tr    *Transport
	h     *discHost
	id    *node.Identity
	addrs []string
	port  int
}

func startLan(t *testing.T, port int, unicast ...string) *lanNode {
	t.Helper()
	n := &lanNode{tr: newConfigured(t, loBody(port, unicast...)), h: newDiscHost(), id: newIdentity(t), port: port}
	var err error
	if n.addrs, err = n.tr.Start(context.Background(), n.h); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.tr.Stop(context.Background()) })
	return n
}

func (n *lanNode) announce(t *testing.T, issued time.Time) []byte {
	t.Helper()
	rec := newRecord(t, n.id, issued, map[string][]string{Network: n.addrs, "tor": {"abc.onion:80"}})
	if err := n.tr.Announce(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestDiscoveryOverUnicast(t *testing.T) {
	pa, pb := freeUDPPort(t), freeUDPPort(t)
	a := startLan(t, pa, fmt.Sprintf("127.0.0.1:%d", pb))
	b := startLan(t, pb, fmt.Sprintf("127.0.0.1:%d", pa))
	if !strings.HasPrefix(a.addrs[0], "127.0.0.1:") {
		t.Fatalf("advertised %v", a.addrs)
	}
	ra := a.announce(t, time.Now())
	rb := b.announce(t, time.Now())
	// Each hears the other once, though announcements repeat.
	db := b.h.wait(t, 1)
	da := a.h.wait(t, 1)
	if db[0].addr != a.addrs[0] || !bytes.Equal(db[0].record, ra) {
		t.Fatalf("b discovered %q", db[0].addr)
	}
	if da[0].addr != b.addrs[0] || !bytes.Equal(da[0].record, rb) {
		t.Fatalf("a discovered %q", da[0].addr)
	}
	// Repeats keep it seen without reaching the host again.
	waitFor(t, "repeats", func() bool { return b.tr.Stats().Heard >= 3 })
	if n := len(b.h.discoveries()); n != 1 {
		t.Fatalf("%d discoveries from repeats", n)
	}
	if s := b.tr.Stats(); s.Seen != 1 {
		t.Fatalf("stats %+v", s)
	}
	b.h.WaitEvent(t, transporttest.Timeout, func(ev transport.Event) bool { return ev.Phase == "peer_seen" })
	// A newer record is reported.
	ra2 := a.announce(t, time.Now().Add(time.Second))
	if d := b.h.wait(t, 2); !bytes.Equal(d[1].record, ra2) {
		t.Fatal("newer record not reported")
	}
	// And packets flow over the link to the discovered address.
	ctx := context.Background()
	if err := b.tr.Send(ctx, []transport.Packet{{Addr: db[0].addr, Data: []byte("hello a")}}); err != nil {
		t.Fatal(err)
	}
	got := a.h.WaitPackets(t, 1, transporttest.Timeout)
	if string(got[0].Data) != "hello a" || got[0].Addr != b.addrs[0] {
		t.Fatalf("a got %q from %q", got[0].Data, got[0].Addr)
	}
	// Stopping a: b stops hearing it and says so.
	a.tr.Stop(ctx)
	b.h.WaitEvent(t, transporttest.Timeout, func(ev transport.Event) bool { return ev.Phase == "peer_lost" })
	if s := b.tr.Stats(); s.Seen != 0 {
		t.Fatalf("seen after loss %+v", s)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(transporttest.Timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestForgedAndReplayedIgnored sends crafted datagrams straight at a
// transport's announcement socket.
func TestForgedAndReplayedIgnored(t *testing.T) {
	pb := freeUDPPort(t)
	b := startLan(t, pb)
	peer := newIdentity(t)
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: pb})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(b []byte) {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	issued := time.Now()
	rec := newRecord(t, peer, issued, map[string][]string{Network: {"127.0.0.1:9"}})
	frame, _ := appendFrame(nil, 5, rec)
	send(frame)
	b.h.wait(t, 1)
	// Forged: the record re-signed by another key under the peer's
	// name cannot be made; a flipped bit in the signed body is the
	// closest, and a frame with a truncated record.
	forged := bytes.Clone(frame)
	forged[len(forged)-100] ^= 0x40
	send(forged)
	send(frame[:len(frame)-3])
	// Replayed: the same frame, an older seq, and an older record with a
	// higher seq.
	send(frame)
	older, _ := appendFrame(nil, 4, rec)
	send(older)
	oldRec, _ := appendFrame(nil, 99, newRecord(t, peer, issued.Add(-time.Minute), map[string][]string{Network: {"127.0.0.1:9"}}))
	send(oldRec)
	waitFor(t, "counters", func() bool { s := b.tr.Stats(); return s.Bad == 2 && s.Replays == 3 })
	if d := b.h.discoveries(); len(d) != 1 {
		t.Fatalf("%d discoveries, want 1", len(d))
	}
	// A flood from one source is cut by the rate limit (burst 8) before
	// any signature check.
	for range 50 {
		send(forged)
	}
	waitFor(t, "the flood to be counted", func() bool { s := b.tr.Stats(); return s.Bad+s.Limited >= 52 })
	if s := b.tr.Stats(); s.Limited == 0 || s.Bad > 2+uint64(DefaultBurst)+5 {
		t.Fatalf("stats after flood %+v", s)
	}
}

func TestNoInterfaces(t *testing.T) {
	tr := newConfigured(t, `interfaces = ["no-such-interface*"]`)
	rec := new(transporttest.Recorder)
	_, err := tr.Start(context.Background(), rec)
	if err == nil || !strings.Contains(err.Error(), "no interfaces") {
		t.Fatalf("start: %v", err)
	}
	evs := rec.Events()
	if len(evs) == 0 || evs[len(evs)-1].State != transport.StateFailed || evs[len(evs)-1].Phase != "no_interfaces" {
		t.Fatalf("events %+v", evs)
	}
	if err := tr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	tr := New(WithLogger(hclog.NewNullLogger()))
	body := "group = \"10.0.0.1\"\ngroup6 = \"239.1.1.1\"\nport = 70000\nunicast = [\"nope\"]\nrate = 0\nannounce_interval = \"-1s\"\n"
	err := tr.Configure(context.Background(), base.Config{Filename: "c.hcl", Body: []byte(body)})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"c.hcl:1:1: group", "c.hcl:2:1: group6", "c.hcl:3:1: port", "c.hcl:4:1: unicast", "c.hcl:5:1: rate", "c.hcl:6:1: announce_interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if err := tr.Configure(context.Background(), base.Config{Filename: "c.hcl", Body: []byte("bogus = 1")}); err == nil {
		t.Error("unknown key accepted")
	}
}
