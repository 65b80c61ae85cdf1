package i2p

import (
	"context"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestBlockedWhenPeersGone: a managed router whose peers are all gone
// (every router of the private network killed) reports blocked with a
// reason once peer_deadline passes; when the routers come back it
// reconnects and reports ready again, with the same address.
func TestBlockedWhenPeersGone(t *testing.T) {
	n := privateNet(t)
	tr := newTransport(t, managedBody(n)+"peer_deadline = \"8s\"\n", "")
	rec := new(transporttest.Recorder)
	addrs, err := tr.Start(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	rec.WaitEvent(t, 90*time.Second, func(ev transport.Event) bool { return ev.State == transport.StateReady })
	phases := map[string]bool{}
	for _, ev := range rec.Events() {
		phases[ev.Phase] = true
	}
	if !phases["building_tunnels"] || !phases["ready"] {
		t.Fatalf("start events lack building_tunnels or ready: %+v", rec.Events())
	}

	killed := time.Now()
	n.KillRouters()
	ev := rec.WaitEvent(t, 90*time.Second, func(ev transport.Event) bool {
		return ev.State == transport.StateBlocked && ev.Phase == "no_peers" && ev.Time.After(killed)
	})
	if ev.Reason == "" {
		t.Fatalf("blocked without a reason: %+v", ev)
	}
	t.Logf("blocked: %s", ev.Reason)

	// Still blocked (or restarting i2pd to retry) while the routers are
	// down: never ready.
	time.Sleep(8 * time.Second)
	for _, e := range rec.Events() {
		if e.Time.After(ev.Time) && e.State == transport.StateReady {
			t.Fatalf("ready while every router is down: %+v", e)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	restarted := time.Now()
	if err := n.RestartRouters(ctx); err != nil {
		t.Fatal(err)
	}
	back := rec.WaitEvent(t, 120*time.Second, func(e transport.Event) bool {
		return e.State == transport.StateReady && e.Time.After(restarted)
	})
	if back.Reason != "" {
		t.Fatalf("ready with a reason: %+v", back)
	}
	var seen []string
	for _, e := range rec.Events() {
		if e.Time.After(ev.Time) && (len(seen) == 0 || seen[len(seen)-1] != e.Phase) {
			seen = append(seen, e.Phase)
		}
	}
	t.Logf("ready again %v after the routers were restarted; phases since the block: %v",
		back.Time.Sub(restarted).Round(time.Millisecond), seen)
	if tr.Addr() != addrs[0] {
		t.Fatalf("address changed: %s → %s", addrs[0], tr.Addr())
	}
}
