package tor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/client"
)

// torHosts starts two onemfived hosts whose only network is the real tor
// plugin with its own tor on the private network (A through the obfs4
// bridge if bridged), waits until both are ready and introduces them. The
// policy sends everything over Tor (the default uses Tor for P2P only as a
// tunnel to an I2P-capable peer).
func torHosts(t *testing.T, bridged bool) (a, b *hosttest.Host) {
	t.Helper()
	pn := privateNet(t)
	bin := hosttest.Build(t, "./plugins/tor", "onemfive-transport-tor")
	policy, err := filepath.Abs("testdata/tor-only.hcl")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, extra string) *hosttest.Host {
		return hosttest.NewHost(t, name, hosttest.Options{
			Config:  fmt.Sprintf("mancon = \"LOW\"\npolicies = [%q]", policy),
			Plugins: []hosttest.Plugin{{Name: "tor", Binary: bin, Body: "torrc = " + hclList(pn.ClientTorrc()) + "\n" + extra}},
		})
	}
	extra := ""
	if bridged {
		if pn.BridgeLine == "" {
			t.Fatal("private network has no bridge")
		}
		extra = fmt.Sprintf("bridges = [%q]\ntransport_plugins = { obfs4 = %q }", pn.BridgeLine, pn.Obfs4Path)
	}
	a, b = mk("A", extra), mk("B", "")
	for _, h := range []*hosttest.Host{a, b} {
		h.Start()
		p := h.WaitPlugin("tor", "ready", 120*time.Second)
		if len(p.Addresses) != 1 || !strings.HasSuffix(strings.Split(p.Addresses[0], ":")[0], ".onion") {
			t.Fatalf("%s: tor addresses %v", h.Name, p.Addresses)
		}
	}
	hosttest.Introduce(t, a, b)
	return a, b
}

// exchange sends n envelopes each way and checks each arrives exactly once.
func exchange(t *testing.T, a, b *hosttest.Host, tag string, n int) (toB map[string]bool) {
	t.Helper()
	toB, toA := map[string]bool{}, map[string]bool{}
	for i := 0; i < n; i++ {
		m1, m2 := fmt.Sprintf("%s-a-to-b-%d", tag, i), fmt.Sprintf("%s-b-to-a-%d", tag, i)
		a.Send(b, m1)
		b.Send(a, m2)
		toB[m1], toA[m2] = true, true
	}
	hosttest.CheckExactlyOnce(t, b.WaitInbox(n, 120*time.Second), toB, a.ID)
	hosttest.CheckExactlyOnce(t, a.WaitInbox(n, 120*time.Second), toA, b.ID)
	return toB
}

// TestHostsOverOnionServices runs two onemfived processes, each with the
// real tor plugin and its own tor joined to the private network, and sends
// envelopes both ways over onion services. Then it kills A's plugin and
// checks that the restarted plugin's bootstrap progress reaches A's API in
// order, ending at 100%, with the same onion address and nothing lost.
func TestHostsOverOnionServices(t *testing.T) {
	// Network and binary first, so the timing below is the hosts' alone.
	privateNet(t)
	hosttest.Build(t, "./plugins/tor", "onemfive-transport-tor")
	hosttest.Daemon(t)
	hosttest.CLI(t)
	t0 := time.Now()
	a, b := torHosts(t, false)
	want := exchange(t, a, b, "plain", 5)
	t.Logf("two cold hosts (tor bootstrap and onion publication each, one after the other) to 5+5 envelopes delivered: %s",
		time.Since(t0).Round(time.Millisecond))
	pid := a.Plugin("tor").PID
	rss, _ := hosttest.ProcKB(pid, "VmRSS")
	anon, _ := hosttest.ProcKB(pid, "RssAnon")
	t.Logf("tor plugin process RSS %d KiB (anonymous %d KiB), tor itself not included", rss, anon)

	// Kill A's plugin: the supervisor restarts it and its bootstrap
	// reports reach the API in order, ending at 100%.
	before := a.Plugin("tor")
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	evs, errs := a.C.Events(ctx, a.Status().InboxLastSeq)
	if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var progress []int
	for done := false; !done; {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("event stream ended: %v", <-errs)
			}
			if ev.Type != client.EventTransport || ev.Transport == nil || ev.Transport.Plugin != "tor" {
				continue
			}
			if n := len(progress); n == 0 || progress[n-1] != ev.Transport.Progress {
				progress = append(progress, ev.Transport.Progress)
			}
			done = ev.Transport.State == "ready" && ev.Transport.Progress == 100
		case <-ctx.Done():
			t.Fatalf("no ready event after the restart; progress seen %v", progress)
		}
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] < progress[i-1] {
			t.Fatalf("bootstrap progress out of order: %v", progress)
		}
	}
	if len(progress) < 2 || progress[len(progress)-1] != 100 {
		t.Fatalf("progress %v: want several steps ending at 100", progress)
	}
	after := a.WaitPlugin("tor", "ready", 120*time.Second)
	if after.Restarts < 1 || after.PID == before.PID || after.Addresses[0] != before.Addresses[0] {
		t.Fatalf("after the kill: %+v (before %+v)", after, before)
	}
	// Nothing lost: a new envelope still arrives.
	a.Send(b, "after-restart")
	want["after-restart"] = true
	hosttest.CheckExactlyOnce(t, b.WaitInbox(6, 120*time.Second), want, a.ID)
	t.Logf("bootstrap progress after restart: %v", progress)
}

// TestHostsThroughObfs4Bridge: the same exchange when host A reaches the
// Tor network only through the private network's obfs4 bridge.
func TestHostsThroughObfs4Bridge(t *testing.T) {
	a, b := torHosts(t, true)
	exchange(t, a, b, "bridged", 3)
}
