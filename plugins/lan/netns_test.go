package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/client"
)

// netns is the test's own topology: a bridge in its own namespace and one
// namespace per node, each joined to the bridge by a veth pair with an
// address from 10.77.0.0/24. Everything is removed at cleanup, even on
// failure.
type netns struct {
	t      *testing.T
	bridge string
	nodes  []string
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newNetns(t *testing.T, n int) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	tag := fmt.Sprintf("om5lan%d", os.Getpid())
	ns := &netns{t: t, bridge: tag + "b"}
	// Deleting a namespace deletes the veth ends and the bridge in it.
	t.Cleanup(func() {
		for _, name := range append([]string{ns.bridge}, ns.nodes...) {
			if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
				t.Logf("cleanup: ip netns del %s: %v %s", name, err, out)
			}
		}
	})
	ip(t, "netns", "add", ns.bridge)
	ip(t, "-n", ns.bridge, "link", "add", "br0", "type", "bridge")
	ip(t, "-n", ns.bridge, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
	ip(t, "-n", ns.bridge, "link", "set", "br0", "up")
	for i := range n {
		name := fmt.Sprintf("%sn%d", tag, i)
		ip(t, "netns", "add", name)
		ns.nodes = append(ns.nodes, name)
		ip(t, "-n", name, "link", "set", "lo", "up")
		ip(t, "-n", ns.bridge, "link", "add", ns.port(i), "type", "veth", "peer", "name", "eth0", "netns", name)
		ip(t, "-n", ns.bridge, "link", "set", ns.port(i), "master", "br0", "up")
		ip(t, "-n", name, "addr", "add", fmt.Sprintf("10.77.0.%d/24", i+1), "dev", "eth0")
		ip(t, "-n", name, "link", "set", "eth0", "up")
	}
	return ns
}

// port is the bridge side of node i's veth pair.
func (ns *netns) port(i int) string { return fmt.Sprintf("v%d", i) }

func cli(t *testing.T, h *hosttest.Host, args ...string) string {
	t.Helper()
	out, err := h.CLI(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func peers(t *testing.T, h *hosttest.Host) map[string][]string {
	t.Helper()
	var ps []client.PeerInfo
	if err := json.Unmarshal([]byte(cli(t, h, "peer", "list", "--json")), &ps); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, p := range ps {
		out[p.NodeID] = p.Addresses["lan"]
	}
	return out
}

func inbox(t *testing.T, h *hosttest.Host) []client.InboxItem {
	t.Helper()
	var items []client.InboxItem
	for _, line := range strings.Split(strings.TrimSpace(cli(t, h, "inbox", "--json")), "\n") {
		if line == "" {
			continue
		}
		var it client.InboxItem
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("inbox line %q: %v", line, err)
		}
		items = append(items, it)
	}
	return items
}

func eventually(t *testing.T, within time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestLANAcrossNamespaces runs one onemfived with the real lan plugin in
// each of three namespaces on one bridge: they discover each other, deliver
// envelopes between every pair, notice a cut link and, once it is back,
// deliver what was sent meanwhile, exactly once.
func TestLANAcrossNamespaces(t *testing.T) {
	ns := newNetns(t, 3)
	bin := hosttest.LAN(t)
	var hosts []*hosttest.Host
	for i, name := range ns.nodes {
		h := hosttest.NewHost(t, fmt.Sprintf("n%d", i), hosttest.Options{
			Plugins: []hosttest.Plugin{{Name: "lan", Binary: bin,
				Body: "interfaces = [\"eth0\"]\nannounce_interval = \"1s\"\nkeepalive = \"1s\""}},
			Wrap: []string{"ip", "netns", "exec", name},
		})
		h.Start()
		hosts = append(hosts, h)
	}

	// Discovery: every host learns the others' records, with lan addresses,
	// from announcements alone.
	for i, h := range hosts {
		took := eventually(t, 20*time.Second, h.Name+" discovers the others", func() error {
			ps := peers(t, h)
			for j, o := range hosts {
				want := fmt.Sprintf("10.77.0.%d:4019", j+1)
				if j != i && (len(ps[o.ID]) == 0 || ps[o.ID][0] != want) {
					return fmt.Errorf("peers %v, want %s at %s", ps, o.ID, want)
				}
			}
			return nil
		})
		t.Logf("%s discovered its peers in %v", h.Name, took)
	}

	// Envelopes between every ordered pair.
	want := make([]map[string]bool, len(hosts))
	for i := range hosts {
		want[i] = map[string]bool{}
	}
	send := func(from, to int, body string) {
		cli(t, hosts[from], "send", "--to", hosts[to].ID, body)
		want[to][body] = true
	}
	for i := range hosts {
		for j := range hosts {
			if i != j {
				send(i, j, fmt.Sprintf("from n%d to n%d", i, j))
			}
		}
	}
	waitInbox := func() {
		for i, h := range hosts {
			eventually(t, 30*time.Second, h.Name+" inbox", func() error {
				if items := inbox(t, h); len(items) < len(want[i]) {
					return fmt.Errorf("%d items, want %d", len(items), len(want[i]))
				}
				return nil
			})
			hosttest.CheckExactlyOnce(t, inbox(t, h), want[i], "")
		}
	}
	waitInbox()

	// Cut n2's link: the others notice (no announcements, keepalive
	// silence) and say so.
	ip(t, "-n", ns.bridge, "link", "set", ns.port(2), "down")
	short := hosts[2].ID[:8]
	eventually(t, 20*time.Second, "n0 reports n2 lost", func() error {
		if !strings.Contains(hosts[0].Logs(), "peer no longer heard") || !strings.Contains(hosts[0].Logs(), short) {
			return fmt.Errorf("no loss in n0's log")
		}
		return nil
	})
	// Sent while cut: held in the outbox, delivered once the link is back.
	send(0, 2, "while cut, n0 to n2")
	send(2, 1, "while cut, n2 to n1")
	ip(t, "-n", ns.bridge, "link", "set", ns.port(2), "up")
	waitInbox()
}

// TestLANRelayToHiddenNode: a fourth namespace hangs off n2 by its own veth
// pair, so n3 hears only n2 and n0/n1 never hear n3. n0 knows nothing of
// n3 but its id; it finds n3's lease set (stored at n2, the only node n3
// knows) and sends through the onion layer: n1, then n2 as gateway, which
// relays along n3's reply route. n3 gets the envelope exactly once, and n0
// never learns an address of n3.
func TestLANRelayToHiddenNode(t *testing.T) {
	ns := newNetns(t, 3)
	hidden := strings.TrimSuffix(ns.nodes[0], "n0") + "n3"
	ip(t, "netns", "add", hidden)
	ns.nodes = append(ns.nodes, hidden) // removed at cleanup with the others
	ip(t, "-n", hidden, "link", "set", "lo", "up")
	ip(t, "-n", ns.nodes[2], "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", hidden)
	ip(t, "-n", ns.nodes[2], "addr", "add", "10.78.0.1/24", "dev", "eth1")
	ip(t, "-n", ns.nodes[2], "link", "set", "eth1", "up")
	ip(t, "-n", hidden, "addr", "add", "10.78.0.2/24", "dev", "eth0")
	ip(t, "-n", hidden, "link", "set", "eth0", "up")

	policy, err := filepath.Abs("testdata/onehop.hcl")
	if err != nil {
		t.Fatal(err)
	}
	bin := hosttest.LAN(t)
	var hosts []*hosttest.Host
	for i, name := range ns.nodes {
		ifaces := `["eth0"]`
		if i == 2 {
			ifaces = `["eth0", "eth1"]`
		}
		h := hosttest.NewHost(t, fmt.Sprintf("n%d", i), hosttest.Options{
			Plugins: []hosttest.Plugin{{Name: "lan", Binary: bin,
				Body: "interfaces = " + ifaces + "\nannounce_interval = \"1s\"\nkeepalive = \"1s\""}},
			Config: fmt.Sprintf("policies = [%q]\nonion {\n  probe_interval = \"1s\"\n  fallback_clearnet = true\n}\n", policy),
			Wrap:   []string{"ip", "netns", "exec", name},
		})
		h.Start()
		hosts = append(hosts, h)
	}
	n0, n3 := hosts[0], hosts[3]
	eventually(t, 20*time.Second, "n3 discovers n2, and n0 discovers n1 and n2", func() error {
		if ps := peers(t, n3); len(ps[hosts[2].ID]) == 0 {
			return fmt.Errorf("n3 peers %v", ps)
		}
		ps := peers(t, n0)
		if len(ps[hosts[1].ID]) == 0 || len(ps[hosts[2].ID]) == 0 {
			return fmt.Errorf("n0 peers %v", ps)
		}
		return nil
	})
	if _, ok := peers(t, n0)[n3.ID]; ok {
		t.Fatal("n0 heard n3 directly: the topology leaks")
	}
	// n3 publishes its lease set once it knows a relay; the send resolves
	// it (and is retried here until it has been published).
	took := eventually(t, 60*time.Second, "n0 sends to n3 by id", func() error {
		_, err := n0.CLI("send", "--to", n3.ID, "to the hidden node")
		return err
	})
	t.Logf("n3's lease set found after %v", took)
	eventually(t, 60*time.Second, "n3 receives", func() error {
		if items := inbox(t, n3); len(items) == 0 {
			return fmt.Errorf("inbox empty")
		}
		return nil
	})
	hosttest.CheckExactlyOnce(t, inbox(t, n3), map[string]bool{"to the hidden node": true}, n0.ID)
	if addrs := peers(t, n0)[n3.ID]; len(addrs) != 0 {
		t.Fatalf("n0 learned n3's addresses %v", addrs)
	}
}
