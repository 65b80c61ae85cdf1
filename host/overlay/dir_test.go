package overlay

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/mixkey"
	"github.com/onemfive/onemfive/host/node"
)

// TestDirectoryCacheFollowsStore: the directory verifies each stored
// record once, yet always reflects the store: a replaced record's new
// addresses, a deleted peer, a record filed under another id, and mix keys
// whose validity ends are all seen on the next call.
func TestDirectoryCacheFollowsStore(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	a := newTestNode(t, net, "a", Config{ProbeInterval: -1})
	r0 := newTestNode(t, net, "r0", Config{ProbeInterval: -1})
	r1 := newTestNode(t, net, "r1", Config{ProbeInterval: -1})
	introduce(t, a, r0)
	introduce(t, a, r1)
	now := time.Now()

	dir, err := a.o.directory(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(dir) != 2 {
		t.Fatalf("directory has %d relays, want 2", len(dir))
	}
	for _, r := range []*testNode{r0, r1} {
		got, ok := dir[r.id.ID()]
		if !ok || got.cand.MixKey == nil {
			t.Fatalf("relay %s missing or without a mix key: %+v", r.addr, got)
		}
	}

	// A new record for r0 (new address) replaces the cached one.
	rec, err := r0.id.NewRecord(map[string][]string{"mem": {"r0-moved"}}, time.Now(), r0.o.MixRecords()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.PutPeer(string(r0.id.ID()), rec); err != nil {
		t.Fatal(err)
	}
	// r1 leaves the store.
	if err := a.st.DeletePeer(string(r1.id.ID())); err != nil {
		t.Fatal(err)
	}
	// r1's record filed under another id is not taken for that id.
	if err := a.st.PutPeer("not-"+string(r1.id.ID()), r1.record(t)); err != nil {
		t.Fatal(err)
	}
	dir, err = a.o.directory(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(dir) != 1 {
		t.Fatalf("after the store changed the directory has %d relays, want 1 (r0)", len(dir))
	}
	if got := dir[r0.id.ID()].rec.Addresses["mem"]; !slices.Equal(got, []string{"r0-moved"}) {
		t.Errorf("r0's addresses %v, want the replaced record's [r0-moved]", got)
	}
	a.o.records.mu.Lock()
	_, stale := a.o.records.entries[r1.id.ID()]
	a.o.records.mu.Unlock()
	if stale {
		t.Errorf("the cache still holds deleted peer r1")
	}

	// Far past every mix-key record's validity, no relay is usable, though
	// the records themselves are cached.
	dir, err = a.o.directory(now.Add(24 * 365 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(dir) != 0 {
		t.Errorf("a year on, %d relays still have a valid mix key", len(dir))
	}
}

// BenchmarkDirectory: the relay directory of a node with 100 peers, as
// every message sent reads it; cached (the overlay's path) against
// verifying every record and mix-key record each time (the baseline, in
// the same run).
func BenchmarkDirectory(b *testing.B) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	a := newTestNode(b, net, "a", Config{ProbeInterval: -1})
	now := time.Now()
	sched := a.o.cfg.Schedule
	for i := range 100 {
		// Each peer publishes mix keys for this epoch and the next, as
		// nodes do.
		n, err := node.NewIdentity()
		if err != nil {
			b.Fatal(err)
		}
		var mix [][]byte
		for e := sched.Epoch(now); e <= sched.Epoch(now)+1; e++ {
			k, err := mixkey.Generate(rand.Reader, e)
			if err != nil {
				b.Fatal(err)
			}
			m, err := mixkey.NewRecord(n, k, sched)
			if err != nil {
				b.Fatal(err)
			}
			mix = append(mix, m)
		}
		rec, err := n.NewRecord(map[string][]string{"mem": {fmt.Sprint("n", i)}}, now, mix...)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.st.PutPeer(string(n.ID()), rec); err != nil {
			b.Fatal(err)
		}
	}
	if dir, err := a.o.directory(now); err != nil || len(dir) != 100 {
		b.Fatalf("directory of %d relays (%v), want 100", len(dir), err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.o.directory(now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-each-time", func(b *testing.B) {
		for b.Loop() {
			if _, err := directory(a.st, newRecordCache(), a.id.ID(), a.o.cfg.Schedule, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestProbeDelay: loop delays average the interval and stay in bounds.
func TestProbeDelay(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	const n, interval = 20000, 5 * time.Second
	var sum time.Duration
	distinct := map[time.Duration]bool{}
	for range n {
		d := probeDelay(rng, interval)
		if d < interval/10 || d > 4*interval {
			t.Fatalf("delay %v outside %v..%v", d, interval/10, 4*interval)
		}
		sum += d
		distinct[d] = true
	}
	// The clipping moves the mean a little: E[min(max(X, 0.1), 4)] for an
	// exponential X of mean 1 is about 0.987.
	if mean := sum / n; mean < 4600*time.Millisecond || mean > 5200*time.Millisecond {
		t.Errorf("mean delay %v, want about %v", mean, interval)
	}
	if len(distinct) < n/2 {
		t.Errorf("only %d distinct delays in %d", len(distinct), n)
	}
}

// TestSendToRelay: a message to a relay's id takes a forward path that
// ends at the relay, with no lease set (the relay publishes none here),
// and carries the reply blocks Params.Replies asks for, which the relay
// can then answer on.
func TestSendToRelay(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	var relays []*testNode
	for i := range 4 {
		relays = append(relays, newTestNode(t, net, fmt.Sprintf("r%d", i), Config{}))
	}
	a := newTestNode(t, net, "a", Config{Guards: []node.ID{relays[0].id.ID()}, ClientOnly: true, ProbeInterval: -1})
	for _, r := range relays {
		for _, x := range append([]*testNode{a}, relays...) {
			if x != r {
				introduce(t, r, x)
			}
		}
		introduce(t, a, r)
	}
	dest := relays[3]
	ctx := t.Context()
	if err := a.o.CanRoute(dest.id.ID(), Params{Hops: 1}); err != nil {
		t.Fatalf("CanRoute to a relay: %v", err)
	}
	if err := a.o.Send(ctx, string(dest.id.ID()), []byte("to the relay"), Params{Hops: 1, Replies: 20}); err != nil {
		t.Fatal(err)
	}
	d := dest.wait(t, "a to the relay")
	if string(d.data) != "to the relay" || !IsHandle(d.handle) {
		t.Fatalf("relay got %q on %q", d.data, d.handle)
	}
	dest.o.mu.Lock()
	pool := dest.o.pools[d.handle]
	blocks := 0
	if pool != nil {
		blocks = len(pool.surbs)
	}
	dest.o.mu.Unlock()
	if blocks != 20 {
		t.Errorf("the message carried %d reply blocks, want 20", blocks)
	}
	a.o.mu.Lock()
	looked := len(a.o.known)
	a.o.mu.Unlock()
	if looked != 0 {
		t.Errorf("a looked up %d lease sets to reach a relay", looked)
	}
	// The relay answers on them: 20 blocks carry a message of many fragments.
	answer := bytes.Repeat([]byte("answer "), 2500) // 17.5 KB: 15 fragments
	dest.o.Bind(d.handle, a.id.ID())
	if err := dest.o.Send(ctx, d.handle, answer, Params{Hops: 1}); err != nil {
		t.Fatal(err)
	}
	if got := a.wait(t, "the relay's answer"); !bytes.Equal(got.data, answer) {
		t.Fatalf("a got %d bytes, want %d", len(got.data), len(answer))
	}
}
