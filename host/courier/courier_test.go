package courier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/store"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/transport"
)

// wire connects couriers by address in memory and can drop packets, so the
// courier's own retransmission and dedup logic is tested without plugins
// (the real-process tests live in host/daemon).
type wire struct {
	mu      sync.Mutex
	nodes   map[string]*Courier
	drop    func(addr string, pkt []byte) bool
	seen    [][]byte
	pending []func()
}

type netOf struct {
	w    *wire
	from string
}

func (n netOf) Ready(string) bool { return true }

func (n netOf) Send(ctx context.Context, network string, pkts []transport.Packet) error {
	n.w.mu.Lock()
	defer n.w.mu.Unlock()
	for _, p := range pkts {
		n.w.seen = append(n.w.seen, bytes.Clone(p.Data))
		if n.w.drop != nil && n.w.drop(p.Addr, p.Data) {
			continue
		}
		dst := n.w.nodes[p.Addr]
		if dst == nil {
			continue
		}
		pkt := transport.Packet{Addr: n.from, Data: bytes.Clone(p.Data)}
		// Deliver asynchronously, as a transport would.
		n.w.pending = append(n.w.pending, func() { dst.HandlePacket(context.Background(), network, pkt) })
	}
	return nil
}

// pump delivers queued packets until none are left.
func (w *wire) pump() {
	for {
		w.mu.Lock()
		p := w.pending
		w.pending = nil
		w.mu.Unlock()
		if len(p) == 0 {
			return
		}
		for _, f := range p {
			f()
		}
	}
}

type peerT struct {
	c        *Courier
	id       *node.Identity
	st       *store.Store
	addr     string
	mu       sync.Mutex
	received []string
	acked    []string
}

func newPeer(t *testing.T, w *wire, addr string, now func() time.Time) *peerT {
	t.Helper()
	id, err := node.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := &peerT{id: id, st: st, addr: addr}
	p.c = New(id, st, netOf{w: w, from: addr}, Handlers{
		Received: func(_ uint64, _ node.ID, env *envelope.Envelope) {
			p.mu.Lock()
			p.received = append(p.received, string(env.Payload))
			p.mu.Unlock()
		},
		Delivery: func(id string, _ node.ID, _, state string) {
			p.mu.Lock()
			p.acked = append(p.acked, id+":"+state)
			p.mu.Unlock()
		},
	}, Options{Now: now}, nil)
	rec, err := id.NewRecord(map[string][]string{"mem": {addr}}, time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	p.c.SetRecord(rec)
	w.mu.Lock()
	if w.nodes == nil {
		w.nodes = map[string]*Courier{}
	}
	w.nodes[addr] = p.c
	w.mu.Unlock()
	return p
}

func (p *peerT) record(t *testing.T) []byte {
	rec, err := p.id.NewRecord(map[string][]string{"mem": {p.addr}}, time.Unix(100, 0))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func env(to *peerT, body string) *envelope.Envelope {
	return &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindP2P, To: string(to.id.ID()), Payload: []byte(body)}
}

func TestSendAckRetransmitDedup(t *testing.T) {
	var w wire
	clk := &clock{t: time.Unix(1_000_000, 0)}
	a, b := newPeer(t, &w, "a", clk.now), newPeer(t, &w, "b", clk.now)
	if _, err := a.c.AddPeer(b.record(t)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Drop the first copy of every data packet and the first ack: the
	// courier must retransmit, the receiver must deliver once and re-ack.
	dropped := map[string]int{}
	w.drop = func(addr string, pkt []byte) bool {
		dropped[addr]++
		return dropped[addr] <= 1
	}
	for i := 0; i < 3; i++ {
		if err := a.c.Send(ctx, env(b, fmt.Sprintf("plaintext-marker-m%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 8; round++ {
		a.c.flush(ctx)
		w.pump()
		clk.add(time.Minute)
	}
	if n, _ := a.st.OutboxLen(); n != 0 {
		t.Fatalf("outbox still holds %d envelopes", n)
	}
	if len(b.received) != 3 {
		t.Fatalf("b received %v, want 3 distinct envelopes exactly once", b.received)
	}
	if len(a.acked) != 3 {
		t.Fatalf("a saw acks %v", a.acked)
	}
	// b learned a's record from the packets, so it can answer.
	if err := b.c.Send(ctx, env(a, "plaintext-marker-reply")); err != nil {
		t.Fatalf("b cannot answer a: %v", err)
	}
	// The transport never carried plaintext (a 16-byte marker: a short one
	// turns up in random ciphertext now and then).
	for _, p := range w.seen {
		if bytes.Contains(p, []byte("plaintext-marker")) {
			t.Fatal("plaintext on the wire")
		}
	}
}

func TestExpiry(t *testing.T) {
	var w wire
	clk := &clock{t: time.Unix(1_000_000, 0)}
	a, b := newPeer(t, &w, "a", clk.now), newPeer(t, &w, "b", clk.now)
	a.c.AddPeer(b.record(t))
	w.drop = func(string, []byte) bool { return true }
	e := env(b, "lost")
	e.TTL = time.Minute
	if err := a.c.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	a.c.flush(context.Background())
	clk.add(2 * time.Minute)
	a.c.flush(context.Background())
	if n, _ := a.st.OutboxLen(); n != 0 {
		t.Fatalf("expired envelope still queued (%d)", n)
	}
	if len(a.acked) != 1 || a.acked[0] != e.ID+":expired" {
		t.Fatalf("delivery events %v", a.acked)
	}
}

func TestSendErrors(t *testing.T) {
	var w wire
	a := newPeer(t, &w, "a", time.Now)
	other, _ := node.NewIdentity()
	ctx := context.Background()
	if err := a.c.Send(ctx, &envelope.Envelope{ID: "x", Kind: envelope.KindP2P, To: "not-a-node"}); !errors.Is(err, ErrNotNodeID) {
		t.Fatalf("bad destination: %v", err)
	}
	if err := a.c.Send(ctx, &envelope.Envelope{ID: "x", Kind: envelope.KindP2P, To: string(other.ID())}); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("unknown peer: %v", err)
	}
	if err := a.c.Send(ctx, &envelope.Envelope{Kind: envelope.KindP2P, To: string(other.ID())}); !errors.Is(err, envelope.ErrInvalid) {
		t.Fatalf("invalid envelope: %v", err)
	}
}

func TestRejectsForgedAndCorrupt(t *testing.T) {
	var w wire
	a, b := newPeer(t, &w, "a", time.Now), newPeer(t, &w, "b", time.Now)
	a.c.AddPeer(b.record(t))
	var captured []byte
	w.drop = func(addr string, pkt []byte) bool {
		if addr == "b" && captured == nil {
			captured = bytes.Clone(pkt)
		}
		return true
	}
	if err := a.c.Send(context.Background(), env(b, "x")); err != nil {
		t.Fatal(err)
	}
	a.c.flush(context.Background())
	if captured == nil {
		t.Fatal("nothing sent")
	}
	for _, i := range []int{0, 5, 60, len(captured) - 1} {
		bad := bytes.Clone(captured)
		bad[i] ^= 1
		if err := b.c.HandlePacket(context.Background(), "mem", transport.Packet{Addr: "a", Data: bad}); !errors.Is(err, ErrRejected) {
			t.Fatalf("flip at %d: %v", i, err)
		}
	}
	if err := b.c.HandlePacket(context.Background(), "mem", transport.Packet{Addr: "a", Data: captured[:100]}); !errors.Is(err, ErrRejected) {
		t.Fatalf("truncated: %v", err)
	}
	// The genuine packet still works, once.
	for i := 0; i < 2; i++ {
		if err := b.c.HandlePacket(context.Background(), "mem", transport.Packet{Addr: "a", Data: captured}); err != nil {
			t.Fatal(err)
		}
	}
	if len(b.received) != 1 {
		t.Fatalf("received %v", b.received)
	}
}

func FuzzDecodeMsg(f *testing.F) {
	d, _ := dataMsg{record: []byte("rec"), id: "id1", envelope: []byte("env")}.encode()
	f.Add(d)
	f.Add(encodeAck([]string{"a", "bb"}))
	f.Add([]byte{msgAck, 3, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, dm, acks, err := decodeMsg(b)
		if err != nil {
			return
		}
		switch kind {
		case msgData:
			again, err := dm.encode()
			if err == nil && !bytes.Equal(again, b) {
				t.Fatalf("data re-encodes differently")
			}
		case msgAck:
			if !bytes.Equal(encodeAck(acks), b) {
				t.Fatalf("ack re-encodes differently")
			}
		}
	})
}

// TestRetryNow: envelopes in backoff become due at once for their
// destination only.
func TestRetryNow(t *testing.T) {
	var w wire
	clk := &clock{t: time.Unix(1_000_000, 0)}
	a, b, c := newPeer(t, &w, "a", clk.now), newPeer(t, &w, "b", clk.now), newPeer(t, &w, "c", clk.now)
	a.c.AddPeer(b.record(t))
	a.c.AddPeer(c.record(t))
	w.drop = func(string, []byte) bool { return true }
	ctx := context.Background()
	for _, to := range []*peerT{b, c} {
		if err := a.c.Send(ctx, env(to, "x")); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 { // a few failed attempts: backoff grows
		a.c.flush(ctx)
		clk.add(time.Second)
	}
	if due, _ := a.st.Due(clk.now(), 10); len(due) != 0 {
		t.Fatalf("%d envelopes due while backing off", len(due))
	}
	a.c.RetryNow(b.id.ID())
	due, _ := a.st.Due(clk.now(), 10)
	if len(due) != 1 || due[0].Dest != string(b.id.ID()) {
		t.Fatalf("due after RetryNow(b): %+v", due)
	}
	// RetryAll: every one, whatever its destination.
	a.c.RetryAll()
	if due, _ := a.st.Due(clk.now(), 10); len(due) != 2 {
		t.Fatalf("%d due after RetryAll, want 2", len(due))
	}
}

// TestIntercept: an envelope the host's Intercept takes is acknowledged
// (the sender's outbox empties) but neither stored in the inbox nor
// passed to Received; others go on as usual.
func TestIntercept(t *testing.T) {
	var w wire
	clk := &clock{t: time.Unix(1_000_000, 0)}
	a, b := newPeer(t, &w, "a", clk.now), newPeer(t, &w, "b", clk.now)
	var mu sync.Mutex
	var taken []string
	b.c.h.Intercept = func(from node.ID, e *envelope.Envelope) bool {
		if e.Service != "host.internal" {
			return false
		}
		mu.Lock()
		taken = append(taken, string(e.Payload)+" from "+string(from)[:6])
		mu.Unlock()
		return true
	}
	if _, err := a.c.AddPeer(b.record(t)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	internal := env(b, "frame")
	internal.Service = "host.internal"
	for _, e := range []*envelope.Envelope{internal, env(b, "for the app")} {
		if err := a.c.Send(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		a.c.flush(ctx)
		w.pump()
		clk.add(time.Minute)
	}
	if n, _ := a.st.OutboxLen(); n != 0 {
		t.Fatalf("outbox still holds %d envelopes: the intercepted one was not acknowledged", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(taken) != 1 || taken[0] != "frame from "+string(a.id.ID())[:6] {
		t.Fatalf("intercepted %v", taken)
	}
	if len(b.received) != 1 || b.received[0] != "for the app" {
		t.Fatalf("b received %v, want only the application's envelope", b.received)
	}
	if items, _ := b.st.InboxSince(0, 10); len(items) != 1 {
		t.Fatalf("b's inbox holds %d items, want 1", len(items))
	}
}
