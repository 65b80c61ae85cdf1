package relay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/relay"
	"github.com/onemfive/onemfive/host/store"
)

func TestThreeHopDelivers(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a, b, c := newNode(t, "a", clock, net), newNode(t, "b", clock, net), newNode(t, "c", clock, net)
	pkt := mustPacket(t, []onion.Hop{a.hop(0), b.hop(0), c.hop(0)}, "hello over three hops")

	if err := a.proc().Process(context.Background(), relay.Incoming{Network: "mem", From: "sender", Packet: pkt}); err != nil {
		t.Fatal(err)
	}
	got := c.del.list()
	if len(got) != 1 || got[0].Kind != onion.KindDeliver || string(got[0].Payload) != "hello over three hops" {
		t.Fatalf("c delivered %+v", got)
	}
	if got[0].Network != "mem" || got[0].Epoch != 0 {
		t.Errorf("delivery network %q epoch %d", got[0].Network, got[0].Epoch)
	}
	for _, n := range []*testNode{a, b} {
		if s := n.proc().Stats(); s.Forwarded != 1 || s.Received != 1 || s.DroppedTotal() != 0 {
			t.Errorf("%s stats %+v", n.name, s)
		}
	}
	if s := c.proc().Stats(); s.Delivered != 1 || s.DroppedTotal() != 0 {
		t.Errorf("c stats %+v", s)
	}

	// Observation logs: each node saw only its neighbours.
	want := map[string]relay.Observation{
		"a": {From: "sender", Kind: onion.KindRelay, Next: b.id},
		"b": {From: "a", Kind: onion.KindRelay, Next: c.id},
		"c": {From: "b", Kind: onion.KindDeliver},
	}
	for _, n := range []*testNode{a, b, c} {
		obs := n.observations()
		if len(obs) != 1 {
			t.Fatalf("%s: %d observations", n.name, len(obs))
		}
		o, w := obs[0], want[n.name]
		if o.From != w.From || o.Kind != w.Kind || o.Next != w.Next || o.Drop != relay.DropNone || o.Network != "mem" {
			t.Errorf("%s observed %+v, want %+v", n.name, o, w)
		}
		sawSender := o.From == "sender"
		sawReceiver := o.Next == c.id || o.Kind == onion.KindDeliver
		if sawSender && sawReceiver {
			t.Errorf("%s saw both ends: %+v", n.name, o)
		}
	}
}

func TestReplayDroppedAcrossRestart(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a := newNode(t, "a", clock, net)
	pkt := mustPacket(t, []onion.Hop{a.hop(0), {ID: [32]byte{9}, Key: a.hop(0).Key}}, "x")
	in := relay.Incoming{Network: "mem", From: "sender", Packet: pkt}
	ctx := context.Background()

	if err := a.proc().Process(ctx, in); err != nil {
		t.Fatal(err)
	}
	if f := waitFor(t, net.sink); f.next != [32]byte{9} {
		t.Fatalf("forwarded to %x", f.next)
	}
	if err := a.proc().Process(ctx, in); !errors.Is(err, relay.ErrReplayed) {
		t.Fatalf("replay: %v", err)
	}
	if n := dropped(a.proc(), relay.DropReplayed); n != 1 {
		t.Fatalf("replayed count %d", n)
	}
	if obs := a.observations(); len(obs) != 2 || obs[1].Drop != relay.DropReplayed {
		t.Fatalf("observations %+v", obs)
	}

	a.close()
	a.open()
	if err := a.proc().Process(ctx, in); !errors.Is(err, relay.ErrReplayed) {
		t.Fatalf("replay after restart: %v", err)
	}
	if s := a.proc().Stats(); s.Dropped[relay.DropReplayed] != 1 || s.Forwarded != 0 {
		t.Fatalf("stats after restart %+v", s)
	}
	if len(net.sink) != 0 {
		t.Fatal("replay was forwarded")
	}
}

func TestConcurrentCopiesOneAccepted(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a := newNode(t, "a", clock, net)
	pkt := mustPacket(t, []onion.Hop{a.hop(0)}, "once")
	const copies = 8
	var wg sync.WaitGroup
	errs := make(chan error, copies)
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- a.proc().Process(context.Background(), relay.Incoming{Packet: bytes.Clone(pkt)})
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, relay.ErrReplayed):
			t.Error(err)
		}
	}
	if ok != 1 || len(a.del.list()) != 1 || dropped(a.proc(), relay.DropReplayed) != copies-1 {
		t.Fatalf("accepted %d, delivered %d, stats %+v", ok, len(a.del.list()), a.proc().Stats())
	}
}

func TestMalformedDropped(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a, c := newNode(t, "a", clock, net), newNode(t, "c", clock, net)
	ctx := context.Background()
	fresh := func() []byte { return mustPacket(t, []onion.Hop{a.hop(0), c.hop(0)}, "payload") }

	cases := []struct {
		name   string
		mangle func([]byte) []byte
		reason relay.Reason
		err    error
	}{
		{"truncated", func(p []byte) []byte { return p[:len(p)-1] }, relay.DropSize, onion.ErrSize},
		{"empty", func([]byte) []byte { return nil }, relay.DropSize, onion.ErrSize},
		{"oversize", func(p []byte) []byte { return append(p, 0) }, relay.DropSize, onion.ErrSize},
		{"version", func(p []byte) []byte { p[0] ^= 0x80; return p }, relay.DropMalformed, onion.ErrVersion},
		{"header bit", func(p []byte) []byte { p[100] ^= 0x01; return p }, relay.DropMAC, onion.ErrMAC},
		{"mac bit", func(p []byte) []byte { p[onion.HeaderSize-1] ^= 0x10; return p }, relay.DropMAC, onion.ErrMAC},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := a.proc().Process(ctx, relay.Incoming{Packet: tc.mangle(fresh())})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if n := dropped(a.proc(), tc.reason); n == 0 {
				t.Fatalf("%s not counted: %+v", tc.reason, a.proc().Stats())
			}
			if total := a.proc().Stats().DroppedTotal(); total != uint64(i+1) {
				t.Fatalf("dropped total %d after %d cases", total, i+1)
			}
			if obs := a.observations(); obs[len(obs)-1].Drop != tc.reason {
				t.Fatalf("observation %+v", obs[len(obs)-1])
			}
		})
	}
	if s := a.proc().Stats(); s.Forwarded != 0 || len(c.del.list()) != 0 {
		t.Fatalf("a mangled packet got through: %+v", s)
	}

	// A flipped body bit passes the relay (it cannot tell) and is dropped
	// as tagged at the final hop.
	pkt := fresh()
	pkt[len(pkt)-1] ^= 0x01
	if err := a.proc().Process(ctx, relay.Incoming{Packet: pkt}); err != nil {
		t.Fatal(err)
	}
	if n := dropped(c.proc(), relay.DropTagged); n != 1 || len(c.del.list()) != 0 {
		t.Fatalf("tagged count %d, delivered %d", n, len(c.del.list()))
	}
}

func TestWrongEpochDropped(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a := newNode(t, "a", clock, net)
	ctx := context.Background()
	// Built for epoch 0's key.
	old1 := mustPacket(t, []onion.Hop{a.hop(0)}, "late")
	old2 := mustPacket(t, []onion.Hop{a.hop(0)}, "later")
	grace := mustPacket(t, []onion.Hop{a.hop(0)}, "in grace")

	// Within the grace window after epoch 0 ends, its key still opens.
	clock.Advance(35 * time.Minute) // epoch 1 + 5 min
	if err := a.proc().Process(ctx, relay.Incoming{Packet: grace}); err != nil {
		t.Fatalf("in grace: %v", err)
	}

	clock.Advance(time.Hour) // epoch 2: epoch 0's key is held but not accepted
	if _, err := a.ring.Ensure(rand.Reader, testSchedule, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.proc().Process(ctx, relay.Incoming{Packet: old1}); !errors.Is(err, relay.ErrWrongEpoch) {
		t.Fatalf("wrong epoch: %v", err)
	}
	if n := dropped(a.proc(), relay.DropWrongEpoch); n != 1 {
		t.Fatalf("wrong-epoch count %d", n)
	}

	// Once the ring has pruned the key, the packet is just a bad MAC.
	if gone := a.ring.Prune(testSchedule, clock.Now()); len(gone) == 0 || gone[0] != 0 {
		t.Fatalf("pruned %v", gone)
	}
	if err := a.proc().Process(ctx, relay.Incoming{Packet: old2}); !errors.Is(err, onion.ErrMAC) {
		t.Fatalf("pruned key: %v", err)
	}
	s := a.proc().Stats()
	if s.Dropped[relay.DropMAC] != 1 || s.Dropped[relay.DropWrongEpoch] != 1 || s.Delivered != 1 {
		t.Fatalf("stats %+v", s)
	}
	if got := a.del.list(); len(got) != 1 || string(got[0].Payload) != "in grace" || got[0].Epoch != 0 {
		t.Fatalf("delivered %+v", got)
	}
}

func TestNoKey(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a := newNode(t, "a", clock, net)
	pkt := mustPacket(t, []onion.Hop{a.hop(0)}, "x")
	clock.Advance(10 * time.Hour)
	a.ring.Prune(testSchedule, clock.Now())
	if err := a.proc().Process(context.Background(), relay.Incoming{Packet: pkt}); !errors.Is(err, relay.ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	if dropped(a.proc(), relay.DropNoKey) != 1 {
		t.Fatalf("stats %+v", a.proc().Stats())
	}
}

func TestHeldPacketSurvivesRestart(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a, b := newNode(t, "a", clock, net), newNode(t, "b", clock, net)
	ctx := context.Background()
	pkt := mustPacket(t, []onion.Hop{a.hop(10 * time.Second), b.hop(0)}, "held")

	if err := a.proc().Process(ctx, relay.Incoming{Packet: pkt}); err != nil {
		t.Fatal(err)
	}
	if s := a.proc().Stats(); s.Held != 1 || s.Forwarded != 0 {
		t.Fatalf("stats %+v", s)
	}
	if obs := a.observations(); len(obs) != 1 || obs[0].Delay != 10*time.Second || obs[0].Next != b.id {
		t.Fatalf("observation %+v", obs)
	}
	clock.Advance(5 * time.Second)
	if n, err := a.proc().FlushDue(ctx); n != 0 || err != nil {
		t.Fatalf("flushed %d early: %v", n, err)
	}

	// Restart mid-hold.
	a.close()
	a.open()
	if s := a.proc().Stats(); s.Held != 1 {
		t.Fatalf("held after restart %+v", s)
	}
	a.run()
	if len(b.del.list()) != 0 {
		t.Fatal("delivered before due")
	}
	clock.Advance(5 * time.Second)
	d := waitFor(t, b.del.ch)
	if string(d.Payload) != "held" {
		t.Fatalf("delivered %q", d.Payload)
	}
	// Stopping Run waits for the release that follows the forward.
	a.close()
	if s := a.proc().Stats(); s.Held != 0 || s.Forwarded != 1 {
		t.Fatalf("stats after forward %+v", s)
	}

	// Released from the queue: another restart forwards nothing again.
	a.open()
	if s := a.proc().Stats(); s.Held != 0 {
		t.Fatalf("held after second restart %+v", s)
	}
	if n, err := a.proc().FlushDue(ctx); n != 0 || err != nil {
		t.Fatalf("flushed %d: %v", n, err)
	}
}

func TestHeldOrderAndLateRestart(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a := newNode(t, "a", clock, net)
	ctx := context.Background()
	next := [32]byte{7}
	key := a.hop(0).Key
	delays := []time.Duration{30 * time.Second, 10 * time.Second, 20 * time.Second}
	for _, d := range delays {
		pkt := mustPacket(t, []onion.Hop{a.hop(d), {ID: next, Key: key}}, d.String())
		if err := a.proc().Process(ctx, relay.Incoming{Packet: pkt}); err != nil {
			t.Fatal(err)
		}
	}
	a.close()
	clock.Advance(time.Minute) // all late by the time the node is back
	a.open()
	if n, err := a.proc().FlushDue(ctx); n != 3 || err != nil {
		t.Fatalf("flushed %d: %v", n, err)
	}
	// Due order: 10s, 20s, 30s. Each forwarded packet opens at the next hop.
	k, err := a.ring.Get(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"10s", "20s", "30s"} {
		f := waitFor(t, net.sink)
		res, err := onion.Unwrap(k.Private, f.pkt)
		if err != nil || f.next != next || string(res.Payload) != want {
			t.Fatalf("got %q to %x (%v), want %q", res.Payload, f.next, err, want)
		}
	}
	if n, _ := store.NewMixQueue(mustStore(t, a)).Len(); n != 0 {
		t.Fatalf("%d still held", n)
	}
}

func mustStore(t *testing.T, n *testNode) *store.Store {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.st == nil {
		t.Fatal("store closed")
	}
	return n.st
}

func TestSURBReply(t *testing.T) {
	clock, net := newClock(), newMemNet()
	a, b, c := newNode(t, "a", clock, net), newNode(t, "b", clock, net), newNode(t, "c", clock, net)
	ctx := context.Background()
	// c makes a SURB back to itself through a and b.
	surb, keys, err := onion.NewSURB(rand.Reader, []onion.Hop{a.hop(0), b.hop(0), c.hop(0)})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := onion.PacketFromSURB(surb, []byte("the reply"))
	if err != nil {
		t.Fatal(err)
	}
	if surb.FirstHop != a.id {
		t.Fatal("first hop is not a")
	}
	if err := a.proc().Process(ctx, relay.Incoming{From: "replier", Packet: reply}); err != nil {
		t.Fatal(err)
	}
	got := c.del.list()
	if len(got) != 1 || got[0].Kind != onion.KindDeliverSURB || got[0].SURBID != keys.ID {
		t.Fatalf("delivered %+v", got)
	}
	plain, err := keys.Open(got[0].Payload)
	if err != nil || string(plain) != "the reply" {
		t.Fatalf("open: %q %v", plain, err)
	}
	// A second use of the SURB is a replay at the first hop.
	again, _ := onion.PacketFromSURB(surb, []byte("again"))
	if err := a.proc().Process(ctx, relay.Incoming{Packet: again}); !errors.Is(err, relay.ErrReplayed) {
		t.Fatalf("second use: %v", err)
	}
}

func TestForwardErrorCounted(t *testing.T) {
	clock := newClock()
	st, err := store.Open(t.TempDir(), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ring := newNode(t, "k", clock, newMemNet()).ring
	p, err := relay.New(relay.Config{
		Keys: ring, Schedule: testSchedule, Clock: clock,
		Replay: store.NewReplayCache(st), Queue: store.NewMixQueue(st),
		Forwarder: failFwd{}, Deliverer: newDeliveries(),
	})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ring.Get(0)
	hop := onion.Hop{ID: [32]byte{1}, Key: k.Public()}
	pkt := mustPacket(t, []onion.Hop{hop, hop}, "x")
	if err := p.Process(context.Background(), relay.Incoming{Packet: pkt}); err == nil {
		t.Fatal("forward error not returned")
	}
	if s := p.Stats(); s.Dropped[relay.DropForward] != 1 || s.Forwarded != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestDelayAboveLimitDropped(t *testing.T) {
	clock := newClock()
	st, err := store.Open(t.TempDir(), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := newNode(t, "k", clock, newMemNet())
	q := store.NewMixQueue(st)
	p, err := relay.New(relay.Config{
		Keys: n.ring, Schedule: testSchedule, Clock: clock, MaxDelay: time.Minute,
		Replay: store.NewReplayCache(st), Queue: q,
		Forwarder: failFwd{}, Deliverer: newDeliveries(),
	})
	if err != nil {
		t.Fatal(err)
	}
	next := onion.Hop{ID: [32]byte{1}, Key: n.hop(0).Key}
	long := mustPacket(t, []onion.Hop{n.hop(time.Hour), next}, "x")
	if err := p.Process(context.Background(), relay.Incoming{Packet: long}); !errors.Is(err, relay.ErrDelay) {
		t.Fatalf("long delay: %v", err)
	}
	if l, _ := q.Len(); l != 0 || p.Stats().Dropped[relay.DropDelay] != 1 {
		t.Fatalf("held %d, stats %+v", l, p.Stats())
	}
	ok := mustPacket(t, []onion.Hop{n.hop(time.Minute), next}, "x")
	if err := p.Process(context.Background(), relay.Incoming{Packet: ok}); err != nil {
		t.Fatal(err)
	}
	if l, _ := q.Len(); l != 1 || p.Stats().Held != 1 {
		t.Fatalf("held %d, stats %+v", l, p.Stats())
	}
}

type failFwd struct{}

func (failFwd) Forward(context.Context, [32]byte, []byte) error { return errors.New("unreachable") }

func TestNewRejectsIncompleteConfig(t *testing.T) {
	if _, err := relay.New(relay.Config{Schedule: testSchedule}); err == nil {
		t.Fatal("empty config accepted")
	}
}
