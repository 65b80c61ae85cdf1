package overlay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/lease"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/store"
	"github.com/onemfive/onemfive/sdk/transport"
)

// memNet delivers packets between overlays in this process, each on its own
// goroutine (as a transport would).
type memNet struct {
	mu      sync.Mutex
	nodes   map[string]*testNode
	down    map[string]bool
	stopped bool

	// inflight counts deliveries running now; idle waits until none are.
	// (A WaitGroup would not do: deliveries start while a test waits.)
	inflight int
	quiet    *sync.Cond
}

// goDeliver runs f as one in-flight delivery; m.mu is held.
func (m *memNet) goDeliver(f func()) {
	m.inflight++
	go func() {
		defer func() {
			m.mu.Lock()
			m.inflight--
			if m.inflight == 0 && m.quiet != nil {
				m.quiet.Broadcast()
			}
			m.mu.Unlock()
		}()
		f()
	}()
}

// idle waits until no delivery is running.
func (m *memNet) idle() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.quiet == nil {
		m.quiet = sync.NewCond(&m.mu)
	}
	for m.inflight > 0 {
		m.quiet.Wait()
	}
}

// nodeNet is one node's view of memNet.
type nodeNet struct {
	m    *memNet
	self string
}

func (n nodeNet) Ready(network string) bool { return network == "mem" }

// Send delivers each packet on its own goroutine, or, to a node that is
// down, tells the sender the dial failed (as the direct transport does).
func (n nodeNet) Send(ctx context.Context, network string, pkts []transport.Packet) error {
	m := n.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return nil
	}
	for _, p := range pkts {
		to := m.nodes[p.Addr]
		if to == nil || m.down[p.Addr] {
			if self := m.nodes[n.self]; self != nil {
				addr := p.Addr
				m.goDeliver(func() { self.o.Unreachable("mem", addr) })
			}
			continue
		}
		data := bytes.Clone(p.Data)
		m.goDeliver(func() { _ = to.o.HandlePacket(context.Background(), "mem", n.self, data) })
	}
	return nil
}

type testNode struct {
	addr string
	id   *node.Identity
	st   *store.Store
	o    *Overlay
	obs  *syncBuffer
	got  chan delivered
	stop func() // stops the current overlay
}

type delivered struct {
	handle string
	data   []byte
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("observation line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func newTestNode(t testing.TB, net *memNet, addr string, cfg Config) *testNode {
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
	n := &testNode{addr: addr, id: id, st: st, obs: new(syncBuffer), got: make(chan delivered, 64)}
	n.stop = n.start(t, net, cfg)
	net.mu.Lock()
	net.nodes[addr] = n
	net.mu.Unlock()
	return n
}

// start runs a new overlay for n (its identity and store) and returns a
// function that stops it.
func (n *testNode) start(t testing.TB, net *memNet, cfg Config) (stop func()) {
	t.Helper()
	cfg.Identity, cfg.Store, cfg.Net = n.id, n.st, nodeNet{m: net, self: n.addr}
	cfg.Replay, cfg.Queue = store.NewReplayCache(n.st), store.NewMixQueue(n.st)
	cfg.ReplyKeys = store.NewReplyKeys(n.st)
	cfg.Observe = n.obs
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 300 * time.Millisecond
	}
	cfg.Deliver = func(_ context.Context, handle string, sealed []byte) error {
		n.got <- delivered{handle, bytes.Clone(sealed)}
		return nil
	}
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.mu.Lock()
	n.o = o
	net.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); o.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			o.Close()
		})
	}
	t.Cleanup(stop) // before the store closes (cleanups run in reverse)
	t.Cleanup(net.idle)
	t.Cleanup(func() { net.mu.Lock(); net.stopped = true; net.mu.Unlock() })
	return stop
}

func (n *testNode) record(t testing.TB) []byte {
	t.Helper()
	rec, err := n.id.NewRecord(map[string][]string{"mem": {n.addr}}, time.Now(), n.o.MixRecords()...)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// introduce stores b's record at a.
func introduce(t testing.TB, a, b *testNode) {
	t.Helper()
	if err := a.st.PutPeer(string(b.id.ID()), b.record(t)); err != nil {
		t.Fatal(err)
	}
}

func (n *testNode) wait(t *testing.T, what string) delivered {
	t.Helper()
	select {
	case d := <-n.got:
		return d
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: nothing delivered at %s", what, n.addr)
	}
	return delivered{}
}

// TestLeaseSetRoundTrip: A knows only F's id; it finds F's lease set,
// sends a two-fragment message through its path and F's gateway, F answers
// on A's reply blocks, then sends A a new message by id over the pool A's
// message left. No relay observes both A and F.
// scene is the usual onion test network: relays that know every node, and
// two client-only nodes that know every relay, a (guard r0) and f (guard
// r1, publishing a lease set with fcfg).
type scene struct {
	net    *memNet
	relays []*testNode
	a, f   *testNode
	fcfg   Config
}

func newScene(t *testing.T, relays int) *scene {
	t.Helper()
	sc := &scene{net: &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}}
	for i := range relays {
		sc.relays = append(sc.relays, newTestNode(t, sc.net, fmt.Sprintf("r%d", i), Config{}))
	}
	sc.a = newTestNode(t, sc.net, "a", Config{Guards: []node.ID{sc.relays[0].id.ID()}, ClientOnly: true})
	sc.fcfg = Config{Guards: []node.ID{sc.relays[1].id.ID()}, Publish: true, ClientOnly: true}
	sc.f = newTestNode(t, sc.net, "f", sc.fcfg)
	all := append([]*testNode{sc.a, sc.f}, sc.relays...)
	for _, r := range sc.relays {
		for _, x := range all {
			if x != r {
				introduce(t, r, x)
			}
		}
		introduce(t, sc.a, r)
		introduce(t, sc.f, r)
	}
	return sc
}

func TestLeaseSetRoundTrip(t *testing.T) {
	sc := newScene(t, 5)
	net, relays, a, f := sc.net, sc.relays, sc.a, sc.f
	all := append([]*testNode{a, f}, relays...)
	ctx := t.Context()
	if err := f.o.publish(ctx); err != nil {
		t.Fatal(err)
	}
	net.idle()

	ctx2, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rec, err := a.o.Resolve(ctx2, f.id.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != f.id.ID() || len(rec.Addresses) != 0 {
		t.Fatalf("resolved record %s with addresses %v", rec.ID.Short(), rec.Addresses)
	}
	msg := bytes.Repeat([]byte("hello F "), 200) // two fragments with the reply blocks
	if err := a.o.Send(ctx, string(f.id.ID()), msg, Params{Hops: 2}); err != nil {
		t.Fatal(err)
	}
	d := f.wait(t, "A to F")
	if !bytes.Equal(d.data, msg) || !IsHandle(d.handle) {
		t.Fatalf("F got %d bytes on handle %q", len(d.data), d.handle)
	}
	if err := f.o.Send(ctx, d.handle, []byte("ack"), Params{Hops: 2}); err != nil {
		t.Fatal(err)
	}
	if r := a.wait(t, "F to A on a reply block"); string(r.data) != "ack" {
		t.Fatalf("A got %q", r.data)
	}
	f.o.Bind(d.handle, a.id.ID())
	// A writes again (its pool at F had one block left after F's ack);
	// then F writes to A by id over the blocks A's messages left.
	if err := a.o.Send(ctx, string(f.id.ID()), []byte("again"), Params{Hops: 2}); err != nil {
		t.Fatal(err)
	}
	if d2 := f.wait(t, "A to F again"); string(d2.data) != "again" {
		t.Fatalf("F got %q", d2.data)
	} else {
		f.o.Bind(d2.handle, a.id.ID())
	}
	if err := f.o.Send(ctx, string(a.id.ID()), []byte("by id"), Params{Hops: 2}); err != nil {
		t.Fatal(err)
	}
	if r := a.wait(t, "F to A by id"); string(r.data) != "by id" {
		t.Fatalf("A got %q", r.data)
	}
	net.idle()

	// What every relay saw, from its observation log.
	addrID := map[string]node.ID{}
	for _, x := range all {
		addrID[x.addr] = x.id.ID()
	}
	forwarded := 0
	for _, r := range relays {
		saw := map[node.ID]bool{}
		for _, l := range r.obs.lines(t) {
			if from, ok := l["from"].(string); ok {
				saw[addrID[from]] = true
			}
			if next, ok := l["next"].(string); ok {
				saw[node.ID(next)] = true
				forwarded++
			}
		}
		if saw[a.id.ID()] && saw[f.id.ID()] {
			t.Errorf("relay %s saw both A and F", r.addr)
		}
	}
	if forwarded == 0 {
		t.Fatal("no relay forwarded anything")
	}
	// A never received a packet from F's address, nor F from A's.
	for _, pair := range [][2]*testNode{{a, f}, {f, a}} {
		for _, l := range pair[0].obs.lines(t) {
			if l["from"] == pair[1].addr {
				t.Errorf("%s received a packet straight from %s", pair[0].addr, pair[1].addr)
			}
		}
	}
	// The storers keep F's set under its blinded key for this period and
	// cannot tell it is F's: what they hold and log never shows F's id or
	// key, nor any of F's gateways' ids.
	key, err := lease.StorageKey(f.id.ID(), lease.Period(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var gateways []node.ID
	for _, l := range f.o.mine.set.Leases {
		gateways = append(gateways, l.GatewayID())
	}
	storedAt := 0
	for _, r := range relays {
		r.o.mu.Lock()
		st, ok := r.o.stored[key]
		var env []byte
		if ok {
			env = st.Bytes()
		}
		r.o.mu.Unlock()
		if !ok {
			continue
		}
		storedAt++
		if bytes.Contains(env, f.id.SigningKey()) || bytes.Contains(env, []byte(f.id.ID())) {
			t.Errorf("the envelope stored at %s shows F's key or id", r.addr)
		}
		for _, g := range gateways {
			_, pub, _ := node.ParseID(string(g))
			if bytes.Contains(env, pub) {
				t.Errorf("the envelope stored at %s shows gateway %s in the clear", r.addr, g.Short())
			}
		}
		for _, l := range r.obs.lines(t) {
			if ev := l["event"]; (ev == "lease_stored" || ev == "lease_query") && l["key"] != fmt.Sprintf("%x", key) {
				t.Errorf("%s logged %v under key %v, want the blinded key", r.addr, ev, l["key"])
			}
		}
	}
	if storedAt == 0 {
		t.Fatal("no relay stores F's envelope under its blinded key")
	}
}

// TestReplyKeysSurviveRestart: F publishes its lease set, then restarts
// (a new overlay on the same identity and store, publishing nothing new).
// A, which knows only F's id, finds the set F published before the restart
// and sends on its reply blocks: F opens the message with the keys it kept
// in its store.
func TestReplyKeysSurviveRestart(t *testing.T) {
	sc := newScene(t, 5)
	net, a, f, fcfg := sc.net, sc.a, sc.f, sc.fcfg
	ctx := t.Context()
	if err := f.o.publish(ctx); err != nil {
		t.Fatal(err)
	}
	net.idle()
	keys := store.NewReplyKeys(f.st)
	kept, err := keys.Len()
	if err != nil || kept == 0 {
		t.Fatalf("F keeps %d reply keys in its store (%v)", kept, err)
	}

	f.stop()
	fcfg.Publish = false // the senders must use the set from before the restart
	f.stop = f.start(t, net, fcfg)
	if n := len(f.o.surbKeys); n != 0 {
		t.Fatalf("the restarted overlay has %d reply keys in memory", n)
	}

	ctx2, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := a.o.Resolve(ctx2, f.id.ID()); err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("after the restart "), 100) // two fragments
	if err := a.o.Send(ctx, string(f.id.ID()), msg, Params{Hops: 2}); err != nil {
		t.Fatal(err)
	}
	if d := f.wait(t, "A to the restarted F"); !bytes.Equal(d.data, msg) {
		t.Fatalf("F got %d bytes, want %d", len(d.data), len(msg))
	}
	left, err := keys.Len()
	if err != nil || left >= kept {
		t.Fatalf("F's store holds %d reply keys after the message, had %d (%v): used keys must go", left, kept, err)
	}
}

// TestLookupWalksCloser: A knows only the three relays farthest from F's
// storage key, none of which stores F's set. They answer with the relays
// they know closer to the key; A asks those next and finds the set, then
// reaches F with it.
func TestLookupWalksCloser(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	var relays []*testNode
	for i := range 8 {
		relays = append(relays, newTestNode(t, net, fmt.Sprintf("r%d", i), Config{}))
	}
	f := newTestNode(t, net, "f", Config{Guards: []node.ID{relays[0].id.ID()}, Publish: true, ClientOnly: true})
	key, err := lease.StorageKey(f.id.ID(), lease.Period(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	byDist := slices.Clone(relays)
	slices.SortFunc(byDist, func(x, y *testNode) int {
		dx, dy := lease.Distance(lease.StorageID(key), x.id.ID()), lease.Distance(lease.StorageID(key), y.id.ID())
		return bytes.Compare(dx[:], dy[:])
	})
	far := byDist[len(byDist)-3:]
	a := newTestNode(t, net, "a", Config{Guards: []node.ID{far[0].id.ID()}, ClientOnly: true})
	for _, r := range relays {
		for _, x := range append([]*testNode{a, f}, relays...) {
			if x != r {
				introduce(t, r, x)
			}
		}
		introduce(t, f, r)
	}
	for _, r := range far {
		introduce(t, a, r)
	}
	ctx := t.Context()
	if err := f.o.publish(ctx); err != nil {
		t.Fatal(err)
	}
	net.idle()
	for _, r := range byDist[:storers] {
		r.o.mu.Lock()
		_, has := r.o.stored[key]
		r.o.mu.Unlock()
		if !has {
			t.Fatalf("relay %s, among the %d closest to the key, does not store F's set", r.addr, storers)
		}
	}
	// F may have published on its own before it knew every relay, at
	// relays that were closest then: the far ones forget it, so that only
	// storers A does not know keep the set and A has to walk.
	for _, r := range far {
		r.o.mu.Lock()
		delete(r.o.stored, key)
		r.o.mu.Unlock()
	}

	ctx2, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec, err := a.o.Resolve(ctx2, f.id.ID())
	if err != nil {
		t.Fatalf("Resolve from the far side: %v", err)
	}
	if rec.ID != f.id.ID() {
		t.Fatalf("resolved %s", rec.ID.Short())
	}
	learned := 0
	for _, r := range byDist[:3] {
		if _, err := a.st.Peer(string(r.id.ID())); err == nil {
			learned++
		}
	}
	if learned == 0 {
		t.Error("A learned none of the relays closest to the key")
	}
	if err := a.o.Send(ctx, string(f.id.ID()), []byte("found you"), Params{Hops: 2}); err != nil {
		t.Fatal(err)
	}
	if d := f.wait(t, "A to F after the walk"); string(d.data) != "found you" {
		t.Fatalf("F got %q", d.data)
	}
}

// TestSendWithoutLease: a destination with no lease set gives ErrNoLease
// and starts a lookup, rather than blocking the caller.
func TestSendWithoutLease(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	r := newTestNode(t, net, "r0", Config{})
	a := newTestNode(t, net, "a", Config{})
	introduce(t, a, r)
	other, _ := node.NewIdentity()
	err := a.o.Send(t.Context(), string(other.ID()), []byte("x"), Params{Hops: 0})
	if !errors.Is(err, ErrNoLease) {
		t.Fatalf("Send = %v, want ErrNoLease", err)
	}
}

// TestDeadRelay: with one relay gone, messages still get through when the
// sender retransmits (as the courier does), and lease lookups still work.
func TestDeadRelay(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	var relays []*testNode
	for i := range 5 {
		relays = append(relays, newTestNode(t, net, fmt.Sprintf("r%d", i), Config{}))
	}
	a := newTestNode(t, net, "a", Config{Guards: []node.ID{relays[0].id.ID()}, ClientOnly: true})
	f := newTestNode(t, net, "f", Config{Guards: []node.ID{relays[1].id.ID()}, Publish: true, ClientOnly: true})
	all := append([]*testNode{a, f}, relays...)
	for _, r := range relays {
		for _, x := range all {
			if x != r {
				introduce(t, r, x)
			}
		}
		introduce(t, a, r)
		introduce(t, f, r)
	}
	ctx := t.Context()
	if err := f.o.publish(ctx); err != nil {
		t.Fatal(err)
	}
	net.idle()
	net.mu.Lock()
	net.down["r2"] = true
	net.mu.Unlock()
	lookups := 0
	for i := range 12 {
		msg := []byte(fmt.Sprintf("message %d", i))
		deadline := time.Now().Add(60 * time.Second)
		for delivered := false; !delivered; {
			if time.Now().After(deadline) {
				t.Log(debugState(a, f, relays))
				for _, r := range relays {
					t.Logf("%s stats %+v", r.addr, r.o.Stats())
					for _, l := range r.obs.lines(t) {
						if ev := l["event"]; ev != "packet" && ev != "gateway" {
							t.Logf("%s: %v", r.addr, l)
						}
					}
				}
				t.Fatalf("message %d not delivered in 60s (%d lookups so far)", i, lookups)
			}
			err := a.o.Send(ctx, string(f.id.ID()), msg, Params{Hops: 2})
			if errors.Is(err, ErrNoLease) {
				lookups++
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, rerr := a.o.Resolve(rctx, f.id.ID())
				cancel()
				if rerr != nil {
					t.Logf("lookup: %v", rerr)
					if err := f.o.publish(ctx); err != nil { // the owner's periodic refresh
						t.Fatal(err)
					}
				}
				continue
			}
			select {
			case d := <-f.got:
				if !bytes.Equal(d.data, msg) {
					t.Fatalf("got %q, want %q", d.data, msg)
				}
				delivered = true
				// F acknowledges on the handle, which brings A more reply
				// blocks to F.
				if err := f.o.Send(ctx, d.handle, []byte("ack"), Params{Hops: 2}); err != nil {
					t.Logf("ack: %v", err)
				}
				select {
				case <-a.got:
				case <-time.After(2 * time.Second):
				}
			case <-time.After(time.Second):
			}
		}
	}
	t.Logf("12 messages with a dead relay: %d lookups", lookups)
}

func debugState(a, f *testNode, relays []*testNode) string {
	var b strings.Builder
	now := time.Now()
	names := map[node.ID]string{a.id.ID(): "a", f.id.ID(): "f"}
	for _, r := range relays {
		names[r.id.ID()] = r.addr
	}
	for _, n := range []*testNode{a, f} {
		n.o.mu.Lock()
		var sus []string
		for _, id := range n.o.suspects(now) {
			sus = append(sus, names[id])
		}
		fmt.Fprintf(&b, "%s suspects %v; ", n.addr, sus)
		if k := n.o.known[f.id.ID()]; k != nil {
			fmt.Fprintf(&b, "knows F's set issued %s with %d blocks left; ", k.set.Issued.Format("15:04:05.000"), len(k.surbs))
		}
		if m := n.o.mine; m != nil {
			var gws []string
			for _, l := range m.set.Leases {
				gws = append(gws, names[l.GatewayID()])
			}
			fmt.Fprintf(&b, "own set issued %s used %d/%d gateways %v; ", m.set.Issued.Format("15:04:05.000"), m.used, m.total, gws)
		}
		n.o.mu.Unlock()
	}
	key, _ := lease.StorageKey(f.id.ID(), lease.Period(time.Now()))
	for _, r := range relays {
		r.o.mu.Lock()
		if st, ok := r.o.stored[key]; ok {
			fmt.Fprintf(&b, "%s stores F's envelope issued %s; ", r.addr, st.Issued.Format("15:04:05.000"))
		}
		r.o.mu.Unlock()
	}
	return b.String()
}

// TestAutoGuard: without configured guards a node picks one relay, keeps it
// (also in the store), and replaces it once it is suspected down.
func TestAutoGuard(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	var relays []*testNode
	for i := range 3 {
		relays = append(relays, newTestNode(t, net, fmt.Sprintf("r%d", i), Config{ProbeInterval: -1}))
	}
	a := newTestNode(t, net, "a", Config{AutoGuard: true, ClientOnly: true, ProbeInterval: -1})
	for _, r := range relays {
		introduce(t, a, r)
	}
	dir, err := a.o.directory(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	g := a.o.guardIDs(dir)
	if len(g) != 1 {
		t.Fatalf("guards %v", g)
	}
	for range 5 {
		if again := a.o.guardIDs(dir); again[0] != g[0] {
			t.Fatalf("guard changed from %s to %s while up", g[0].Short(), again[0].Short())
		}
	}
	if b, err := a.st.Get(guardKey); err != nil || node.ID(b) != g[0] {
		t.Fatalf("stored guard %q, %v", b, err)
	}
	a.o.mu.Lock()
	a.o.blame([]node.ID{g[0], g[0]}, time.Now())
	a.o.mu.Unlock()
	if next := a.o.guardIDs(dir); next[0] == g[0] {
		t.Fatalf("suspected guard %s kept", g[0].Short())
	}
}

// TestResolveNotFound: when every node asked answers that it has no lease
// set, Resolve says so at once instead of waiting for its deadline.
func TestResolveNotFound(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	var relays []*testNode
	for i := range 4 {
		relays = append(relays, newTestNode(t, net, fmt.Sprintf("r%d", i), Config{ProbeInterval: -1}))
	}
	a := newTestNode(t, net, "a", Config{ClientOnly: true, ProbeInterval: -1})
	for _, r := range relays {
		introduce(t, a, r)
		for _, x := range relays {
			if x != r {
				introduce(t, r, x)
			}
		}
		introduce(t, r, a)
	}
	nobody, _ := node.NewIdentity()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := a.o.Resolve(ctx, nobody.ID())
	if !errors.Is(err, ErrNoLease) || ctx.Err() != nil {
		t.Fatalf("Resolve = %v (deadline hit: %v), want ErrNoLease before the deadline", err, ctx.Err())
	}
}

// TestAutoGuardNotADeadEnd: a relay that shares no network with any other
// relay (a node hanging off this one by a private link) is no guard while
// another candidate exists: every path through it would fail. A guard
// picked while it was the only relay known is replaced once others are.
func TestAutoGuardNotADeadEnd(t *testing.T) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	a := newTestNode(t, net, "a", Config{AutoGuard: true, ClientOnly: true, ProbeInterval: -1})
	hidden := newTestNode(t, net, "hidden", Config{ProbeInterval: -1})
	// hidden is on a private link (lan@10.78.0.0/24) that only a shares.
	rec, err := hidden.id.NewRecord(map[string][]string{"lan": {"10.78.0.2:7000"}}, time.Now(), hidden.o.MixRecords()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.PutPeer(string(hidden.id.ID()), rec); err != nil {
		t.Fatal(err)
	}
	dir, err := a.o.directory(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if g := a.o.guardIDs(dir); len(g) != 1 || g[0] != hidden.id.ID() {
		t.Fatalf("with one relay known, guards %v, want it", g)
	}
	for i := range 3 {
		introduce(t, a, newTestNode(t, net, fmt.Sprintf("r%d", i), Config{ProbeInterval: -1}))
	}
	if dir, err = a.o.directory(time.Now()); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		g := a.o.guardIDs(dir)
		if len(g) != 1 || g[0] == hidden.id.ID() {
			t.Fatalf("guards %v: the dead end is kept", g)
		}
	}
}
