package i2p

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/client"
)

// i2pHosts starts two onemfived hosts whose only network is the real i2p
// plugin with its own i2pd joined to the private network, waits until both
// are ready and introduces them. The policy sends everything over I2P.
func i2pHosts(t *testing.T) (a, b *hosttest.Host) {
	t.Helper()
	n := privateNet(t)
	bin := hosttest.Build(t, "./plugins/i2p", "onemfive-transport-i2p")
	policy, err := filepath.Abs("testdata/i2p-only.hcl")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	if os.Getenv("ONEMFIVE_TEST_LOGS") != "" {
		env["ONEMFIVE_LOG_LEVEL"] = "debug" // the plugins inherit it
	}
	mk := func(name string) *hosttest.Host {
		return hosttest.NewHost(t, name, hosttest.Options{Env: env,
			Config:  fmt.Sprintf("mancon = \"LOW\"\npolicies = [%q]", policy),
			Plugins: []hosttest.Plugin{{Name: "i2p", Binary: bin, Body: managedBody(n) + "start_wait = \"60s\"\n"}},
		})
	}
	a, b = mk("A"), mk("B")
	a.Start()
	b.Start()
	for _, h := range []*hosttest.Host{a, b} {
		p := h.WaitPlugin("i2p", "ready", 150*time.Second)
		if len(p.Addresses) != 1 || checkAddr(p.Addresses[0]) != nil {
			t.Fatalf("%s: i2p addresses %v", h.Name, p.Addresses)
		}
	}
	hosttest.Introduce(t, a, b)
	return a, b
}

// exchange sends n envelopes each way, and one of 40 KB each way (more
// than a SAM datagram could carry), and checks each arrives exactly once.
func exchange(t *testing.T, a, b *hosttest.Host, tag string, n int, toB, toA map[string]bool) {
	t.Helper()
	big := func(s string) string { return s + strings.Repeat(".", 40<<10) }
	for i := 0; i < n; i++ {
		m1, m2 := fmt.Sprintf("%s-a-to-b-%d", tag, i), fmt.Sprintf("%s-b-to-a-%d", tag, i)
		if i == 0 && tag == "first" {
			m1, m2 = big(m1), big(m2)
		}
		a.Send(b, m1)
		b.Send(a, m2)
		toB[m1], toA[m2] = true, true
	}
	hosttest.CheckExactlyOnce(t, b.WaitInbox(len(toB), 150*time.Second), toB, a.ID)
	hosttest.CheckExactlyOnce(t, a.WaitInbox(len(toA), 150*time.Second), toA, b.ID)
}

// watch follows host h's i2p transport events until one matches done,
// returning the phases seen (consecutive repeats folded).
func watch(t *testing.T, h *hosttest.Host, after uint64, within time.Duration, trigger func(), done func(client.TransportEvent) bool) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	evs, errs := h.C.Events(ctx, after)
	trigger()
	var phases []string
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatalf("event stream ended: %v (phases %v)", <-errs, phases)
			}
			if ev.Type != client.EventTransport || ev.Transport == nil || ev.Transport.Plugin != "i2p" {
				continue
			}
			p := ev.Transport.Phase + "/" + ev.Transport.State + "/" + strconv.Itoa(ev.Transport.Progress)
			if n := len(phases); n == 0 || phases[n-1] != p {
				phases = append(phases, p)
			}
			if done(*ev.Transport) {
				return phases
			}
		case <-ctx.Done():
			t.Fatalf("%s: no matching event within %v; seen %v", h.Name, within, phases)
		}
	}
}

// childPID is the pid of the process named comm whose parent is ppid.
func childPID(t *testing.T, ppid int, comm string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	var seen []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(st, ')')
		f := strings.Fields(string(st[i+1:]))
		// i2pd renames its main thread, so comm is not "i2pd": use argv[0].
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		name := filepath.Base(string(bytes.SplitN(cmdline, []byte{0}, 2)[0]))
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) && name == comm {
			return pid
		}
		if name == comm && len(f) > 1 {
			seen = append(seen, fmt.Sprintf("%d (parent %s)", pid, f[1]))
		}
	}
	t.Fatalf("no %s child of pid %d; %s processes: %v", comm, ppid, comm, seen)
	return 0
}

// TestHostsOverI2P runs two onemfived processes, each with the real i2p
// plugin and its own i2pd joined to the private network, and sends
// envelopes both ways (one of 40 KB each way). Then it kills A's plugin
// (kill -9): the host restarts it, its status events go through building
// tunnels to ready, in order, with the same address, and nothing is lost.
// Then it kills A's i2pd (kill -9): the plugin reports i2pd_restart,
// starts a new i2pd, and is ready again with the same address; nothing is
// lost.
func TestHostsOverI2P(t *testing.T) {
	privateNet(t)
	hosttest.Build(t, "./plugins/i2p", "onemfive-transport-i2p")
	hosttest.Daemon(t)
	hosttest.CLI(t)
	t0 := time.Now()
	a, b := i2pHosts(t)
	t.Logf("two cold hosts (i2pd started, reseeded, session made, each) ready: %s", time.Since(t0).Round(time.Millisecond))
	toB, toA := map[string]bool{}, map[string]bool{}
	exchange(t, a, b, "first", 3, toB, toA)
	t.Logf("two cold hosts to 3+3 envelopes (one of 40 KB each way) delivered: %s", time.Since(t0).Round(time.Millisecond))
	pid := a.Plugin("i2p").PID
	rss, _ := hosttest.ProcKB(pid, "VmRSS")
	i2pdRSS, _ := hosttest.ProcKB(childPID(t, pid, "i2pd"), "VmRSS")
	t.Logf("plugin process RSS %d KiB; its i2pd RSS %d KiB", rss, i2pdRSS)

	// kill -9 of the plugin.
	before := a.Plugin("i2p")
	t1 := time.Now()
	phases := watch(t, a, a.Status().InboxLastSeq, 180*time.Second, func() {
		if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}, func(ev client.TransportEvent) bool { return ev.State == "ready" && ev.Progress == 100 })
	t.Logf("plugin killed → ready again: %v; events %v", time.Since(t1).Round(time.Millisecond), phases)
	checkOrder(t, phases)
	after := a.WaitPlugin("i2p", "ready", 60*time.Second)
	if after.Restarts < 1 || after.PID == before.PID || after.Addresses[0] != before.Addresses[0] {
		t.Fatalf("after killing the plugin: %+v (before %+v)", after, before)
	}
	exchange(t, a, b, "after-plugin-kill", 2, toB, toA)

	// kill -9 of the plugin's i2pd.
	i2pdPID := childPID(t, after.PID, "i2pd")
	t2 := time.Now()
	phases = watch(t, a, a.Status().InboxLastSeq, 180*time.Second, func() {
		if err := syscall.Kill(i2pdPID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}, func(ev client.TransportEvent) bool { return ev.State == "ready" && ev.Progress == 100 })
	t.Logf("i2pd killed → ready again: %v; events %v", time.Since(t2).Round(time.Millisecond), phases)
	if !strings.HasPrefix(phases[0], "i2pd_restart/") {
		t.Errorf("first event after killing i2pd: %v, want i2pd_restart", phases)
	}
	checkOrder(t, phases)
	final := a.Plugin("i2p")
	if final.PID != after.PID || final.Addresses[0] != before.Addresses[0] || childPID(t, final.PID, "i2pd") == i2pdPID {
		t.Fatalf("after killing i2pd: %+v (before %+v)", final, after)
	}
	exchange(t, a, b, "after-i2pd-kill", 2, toB, toA)
}

// checkOrder checks a start's progress never goes back and passes through
// building tunnels to ready.
func checkOrder(t *testing.T, phases []string) {
	t.Helper()
	prev, tunnels := -1, false
	for _, p := range phases {
		f := strings.Split(p, "/")
		n, _ := strconv.Atoi(f[2])
		if f[1] != "blocked" && n < prev && f[0] != "i2pd_restart" {
			t.Errorf("progress goes back: %v", phases)
		}
		prev = max(prev, n)
		tunnels = tunnels || f[0] == "building_tunnels"
	}
	if !tunnels || !strings.HasPrefix(phases[len(phases)-1], "ready/ready/100") {
		t.Errorf("events %v: want building_tunnels, then ready", phases)
	}
}
