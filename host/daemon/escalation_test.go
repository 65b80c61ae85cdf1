package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/client"
)

// TestEscalationMovesTraffic runs two hosts whose policy makes "veil" (a
// real TCP transport in its own plugin process) their anonymous network at
// LOW. When A's veil reports blocked, A's effective level climbs to HIGH,
// the change is an event on A's API, and traffic moves to the next network
// the policy allows (direct, a 1DN link).
func TestEscalationMovesTraffic(t *testing.T) {
	veilBin := hosttest.Build(t, "./host/daemon/testdata/veilplugin", "onemfive-transport-veil")
	policyFile, err := filepath.Abs("testdata/policy/veil.hcl")
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		*hosttest.Host
		blockFile, veilTap, directTap string
	}
	mk := func(name string) *node {
		dir := t.TempDir()
		n := &node{blockFile: filepath.Join(dir, "block"), veilTap: filepath.Join(dir, "veil.tap"), directTap: filepath.Join(dir, "direct.tap")}
		n.Host = hosttest.NewHost(t, name, hosttest.Options{
			// The onion layer's loop probes would cross whichever link is
			// up; this test counts only what the policy routes.
			Config: fmt.Sprintf("mancon = \"LOW\"\npolicies = [%q]\nonion {\n  enabled = false\n}", policyFile),
			Env:    map[string]string{"VEIL_BLOCK_FILE": n.blockFile},
			Plugins: []hosttest.Plugin{
				{Name: "veil", Binary: veilBin, Body: fmt.Sprintf("listen = \"127.0.0.1:%d\"\ntap_file = %q", hosttest.FreePort(t), n.veilTap)},
				{Name: "direct", Binary: hosttest.Direct(t), Body: fmt.Sprintf("listen = \"127.0.0.1:%d\"\ntap_file = %q", hosttest.FreePort(t), n.directTap)},
			},
		})
		return n
	}
	a, b := mk("A"), mk("B")
	for _, n := range []*node{a, b} {
		n.Start()
		n.WaitPlugin("veil", "ready", 30*time.Second)
		n.WaitPlugin("direct", "ready", 30*time.Second)
	}
	hosttest.Introduce(t, a.Host, b.Host)
	if st := a.Status(); st.ManCon != "LOW" || st.EffectiveManCon != "LOW" {
		t.Fatalf("A starts at %s/%s, want LOW/LOW", st.ManCon, st.EffectiveManCon)
	}
	size := func(p string) int64 {
		st, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return st.Size()
	}

	// At LOW the envelope goes over veil, not direct.
	a.Send(b.Host, "over-veil")
	b.WaitInbox(1, 30*time.Second)
	if size(a.veilTap) == 0 || size(a.directTap) != 0 {
		t.Fatalf("at LOW: veil carried %d bytes, direct %d; want only veil", size(a.veilTap), size(a.directTap))
	}

	// Block veil on A: the level climbs and the API says why.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, errs := a.C.Events(ctx, a.Status().InboxLastSeq)
	if err := os.WriteFile(a.blockFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var climb *client.Event
	for climb == nil {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("event stream ended: %v", <-errs)
			}
			if ev.Type == client.EventMancon && ev.Data["to"] == "HIGH" {
				climb = &ev
			}
		case <-ctx.Done():
			t.Fatal("no mancon event on the API within 30 s of the block")
		}
	}
	if cause, _ := climb.Data["cause"].(string); !strings.Contains(cause, "veil") || !strings.Contains(cause, "test block file") {
		t.Fatalf("climb event does not give its cause: %+v", climb)
	}
	if st := a.Status(); st.EffectiveManCon != "HIGH" || st.ManCon != "LOW" {
		t.Fatalf("after the block A is %s/%s, want base LOW, effective HIGH", st.ManCon, st.EffectiveManCon)
	}

	mc, err := a.C.ManCon(ctx)
	if err != nil || len(mc.Blocked) != 1 || mc.Blocked[0] != "veil" || mc.Networks["veil"].Status != "blocked" || len(mc.PolicyFiles) != 1 {
		t.Fatalf("mancon state %+v %v", mc, err)
	}
	ex, err := a.C.Explain(ctx, "p2p", b.ID, "")
	if err != nil || ex.Level != "HIGH" || len(ex.Routes) == 0 || !strings.HasPrefix(ex.Routes[0], "direct") {
		t.Fatalf("live explanation %+v %v", ex, err)
	}

	// Traffic now moves over direct.
	veilBefore := size(a.veilTap)
	a.Send(b.Host, "over-direct")
	items := b.WaitInbox(2, 30*time.Second)
	hosttest.CheckExactlyOnce(t, items, map[string]bool{"over-veil": true, "over-direct": true}, a.ID)
	if size(a.directTap) == 0 {
		t.Fatal("after the block nothing went over direct")
	}
	if size(a.veilTap) != veilBefore {
		t.Fatal("after the block A still sent over veil")
	}

	// Unblocked: the network is ready again but the level only decays
	// after verified success (an hour in this policy), so it stays HIGH.
	os.Remove(a.blockFile)
	a.WaitPlugin("veil", "ready", 30*time.Second)
	if st := a.Status(); st.EffectiveManCon != "HIGH" {
		t.Fatalf("level fell to %s as soon as the block cleared", st.EffectiveManCon)
	}
	// The user can raise the base; the effective level follows at once.
	if mc, err := a.C.SetManCon(ctx, "NEO"); err != nil || mc.Base != "NEO" || mc.Effective != "NEO" {
		t.Fatalf("set NEO: %+v %v", mc, err)
	}
}
