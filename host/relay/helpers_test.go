package relay_test

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/mixkey"
	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/relay"
	"github.com/onemfive/onemfive/host/store"
)

// fakeClock only moves when Advance is called.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			keep = append(keep, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = keep
}

var testSchedule = mixkey.Schedule{
	Origin: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	Length: time.Hour,
	Grace:  10 * time.Minute,
}

// newClock starts in the middle of epoch 0.
func newClock() *fakeClock {
	return &fakeClock{now: testSchedule.Origin.Add(30 * time.Minute)}
}

// deliveries records what a node's Deliverer got.
type deliveries struct {
	mu  sync.Mutex
	got []relay.Delivery
	ch  chan relay.Delivery
}

func newDeliveries() *deliveries { return &deliveries{ch: make(chan relay.Delivery, 64)} }

func (d *deliveries) Deliver(_ context.Context, x relay.Delivery) error {
	d.mu.Lock()
	d.got = append(d.got, x)
	d.mu.Unlock()
	d.ch <- x
	return nil
}

func (d *deliveries) list() []relay.Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]relay.Delivery{}, d.got...)
}

// forwarded is one packet a Forwarder was handed.
type forwarded struct {
	next [32]byte
	pkt  []byte
}

// memNet connects test nodes in memory: a node's Forwarder calls the next
// node's Process directly. Packets for ids not in the net go to sink.
type memNet struct {
	mu    sync.Mutex
	nodes map[[32]byte]*testNode
	sink  chan forwarded
}

func newMemNet() *memNet {
	return &memNet{nodes: make(map[[32]byte]*testNode), sink: make(chan forwarded, 64)}
}

type memFwd struct {
	net  *memNet
	from string
}

func (f memFwd) Forward(ctx context.Context, next [32]byte, pkt []byte) error {
	f.net.mu.Lock()
	n := f.net.nodes[next]
	f.net.mu.Unlock()
	if n == nil {
		f.net.sink <- forwarded{next: next, pkt: pkt}
		return nil
	}
	// The next hop's drop is its own business (counted there).
	_ = n.proc().Process(ctx, relay.Incoming{Network: "mem", From: f.from, Packet: pkt})
	return nil
}

// testNode is one relay with its own store directory.
type testNode struct {
	t     testing.TB
	name  string
	id    [32]byte
	dir   string
	clock *fakeClock
	ring  *mixkey.Ring
	net   *memNet
	del   *deliveries

	mu   sync.Mutex
	st   *store.Store
	p    *relay.Processor
	obs  []relay.Observation
	stop func()
}

func newNode(t testing.TB, name string, clock *fakeClock, net *memNet) *testNode {
	t.Helper()
	n := &testNode{t: t, name: name, dir: t.TempDir(), clock: clock, ring: &mixkey.Ring{}, net: net, del: newDeliveries()}
	copy(n.id[:], name)
	n.id[31] = 0xaa
	if _, err := n.ring.Ensure(rand.Reader, testSchedule, clock.Now()); err != nil {
		t.Fatal(err)
	}
	n.open()
	net.mu.Lock()
	net.nodes[n.id] = n
	net.mu.Unlock()
	t.Cleanup(n.close)
	return n
}

// open (re)opens the node's store and builds a new Processor on it.
func (n *testNode) open() {
	n.t.Helper()
	st, err := store.Open(n.dir, hclog.NewNullLogger())
	if err != nil {
		n.t.Fatal(err)
	}
	p, err := relay.New(relay.Config{
		Keys:      n.ring,
		Schedule:  testSchedule,
		Replay:    store.NewReplayCache(st),
		Queue:     store.NewMixQueue(st),
		Forwarder: memFwd{net: n.net, from: n.name},
		Deliverer: n.del,
		Clock:     n.clock,
		Observe: func(o relay.Observation) {
			n.mu.Lock()
			n.obs = append(n.obs, o)
			n.mu.Unlock()
		},
	})
	if err != nil {
		_ = st.Close()
		n.t.Fatal(err)
	}
	n.mu.Lock()
	n.st, n.p = st, p
	n.mu.Unlock()
}

func (n *testNode) proc() *relay.Processor {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.p
}

// run starts the Processor's Run loop until close.
func (n *testNode) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := n.proc()
	go func() { done <- p.Run(ctx) }()
	n.mu.Lock()
	n.stop = func() {
		cancel()
		if err := <-done; err != context.Canceled {
			n.t.Errorf("%s: run: %v", n.name, err)
		}
	}
	n.mu.Unlock()
}

// close stops Run and closes the store (idempotent).
func (n *testNode) close() {
	n.mu.Lock()
	stop, st := n.stop, n.st
	n.stop, n.st = nil, nil
	n.mu.Unlock()
	if stop != nil {
		stop()
	}
	if st != nil {
		if err := st.Close(); err != nil {
			n.t.Error(err)
		}
	}
}

func (n *testNode) observations() []relay.Observation {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]relay.Observation{}, n.obs...)
}

// hop is n as an onion hop under its current key.
func (n *testNode) hop(delay time.Duration) onion.Hop {
	n.t.Helper()
	k, err := n.ring.Get(testSchedule.Epoch(n.clock.Now()))
	if err != nil {
		n.t.Fatal(err)
	}
	return onion.Hop{ID: n.id, Key: k.Public(), Delay: delay}
}

func mustPacket(t testing.TB, path []onion.Hop, payload string) []byte {
	t.Helper()
	pkt, err := onion.NewPacket(rand.Reader, path, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func dropped(p *relay.Processor, r relay.Reason) uint64 { return p.Stats().Dropped[r] }

// waitFor guards a channel receive; the timeout only turns a hang into a
// failure, it asserts nothing about speed.
func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
		var zero T
		return zero
	}
}
