package mancon

import (
	"fmt"
	"slices"
	"testing"

	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/envelope"
)

const destID = "ga3y46gy32xjt7bej4cyehodt4652p7ndiua3l47n44ydet7zsfa"

func readyEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(Options{Base: envelope.HIGH})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"i2p", "tor", "lan", "direct"} {
		e.Network(n, policy.Ready, "")
	}
	return e
}

// TestPlanCache: a repeated request gets the cached plan; a change of a
// network's state, of the base level, of the ratchet's level or of the
// peers given makes a new one, equal to what Evaluate says then.
func TestPlanCache(t *testing.T) {
	e := readyEngine(t)
	req := policy.Request{Kind: envelope.KindP2P, To: destID}
	peers := []policy.Peer{{ID: destID, Networks: []string{"i2p", "tor"}}}
	first, err := e.Plan(req, peers)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.Plan(req, peers)
	if &first.Routes[0] != &again.Routes[0] {
		t.Error("a repeated request was evaluated again, not served from the cache")
	}
	check := func(what string, wantNetwork string) {
		t.Helper()
		got, err := e.Plan(req, peers)
		fresh, ferr := e.Evaluate(req, peers)
		if fmt.Sprint(err) != fmt.Sprint(ferr) {
			t.Fatalf("%s: Plan error %v, Evaluate error %v", what, err, ferr)
		}
		if !slices.Equal(got.Explain, fresh.Explain) {
			t.Fatalf("%s: cached plan is stale:\n%v\nfresh:\n%v", what, got.Explain, fresh.Explain)
		}
		if len(got.Routes) == 0 || got.Routes[0].Network != wantNetwork {
			t.Fatalf("%s: first route %+v, want %s", what, got.Routes, wantNetwork)
		}
	}
	check("all ready", "i2p")
	e.Network("i2p", policy.Blocked, "reseed failed")
	check("i2p blocked", "tor")
	e.Network("i2p", policy.Ready, "")
	if err := e.SetBase(envelope.LOW); err != nil {
		t.Fatal(err)
	}
	check("base LOW, ratchet still up", "i2p")
	peers = []policy.Peer{{ID: destID, Networks: []string{"tor"}}}
	check("other peers", "i2p")
	if got, _ := e.Plan(req, peers); got.Level != e.Snapshot().Effective {
		t.Fatalf("plan level %s, effective %s", got.Level, e.Snapshot().Effective)
	}
}

// BenchmarkPlan is the per-envelope hot path: the courier asks for the
// plan of a p2p envelope to a known peer (cached after the first).
func BenchmarkPlan(b *testing.B) {
	e := readyEngine(b)
	req := policy.Request{Kind: envelope.KindP2P, To: destID}
	peers := []policy.Peer{{ID: destID, Networks: []string{"i2p", "tor"}}}
	if _, err := e.Plan(req, peers); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Plan(req, peers); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanBaseline is the floor BenchmarkPlan is measured against: a
// locked map lookup keyed like the cache, after hashing the same peers.
func BenchmarkPlanBaseline(b *testing.B) {
	e := readyEngine(b)
	peers := []policy.Peer{{ID: destID, Networks: []string{"i2p", "tor"}}}
	m := map[planKey]policy.Plan{{kind: envelope.KindP2P, to: destID, peers: e.hashPeers(peers)}: {}}
	b.ReportAllocs()
	for b.Loop() {
		k := planKey{kind: envelope.KindP2P, to: destID, peers: e.hashPeers(peers)}
		e.mu.Lock()
		_, ok := m[k]
		e.mu.Unlock()
		if !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkEvaluate is a plan made afresh (a cache miss).
func BenchmarkEvaluate(b *testing.B) {
	e := readyEngine(b)
	req := policy.Request{Kind: envelope.KindP2P, To: destID}
	peers := []policy.Peer{{ID: destID, Networks: []string{"i2p", "tor"}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Evaluate(req, peers); err != nil {
			b.Fatal(err)
		}
	}
}
