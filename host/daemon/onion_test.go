package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
)

// observations reads a node's onion observation log.
func observations(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestOnionRouting is the onion layer's acceptance test over seven real
// onemfived processes with the direct transport: five relays, and A and F,
// two client-only nodes with a guard each that are never introduced to
// each other. A sends to F's id: it looks up F's lease set at the nodes
// closest to F's id and sends through its own three-hop path to one of F's
// gateways, which relays along a reply route to F. F answers on the reply
// blocks A's message carried (A publishes no lease set, so there is no
// other way back). A relay killed during a second batch does not stop
// delivery. Every node logs what it saw; no relay saw both A and F, and
// neither end ever saw the other's address or received a packet from it.
func TestOnionRouting(t *testing.T) {
	obsDir := t.TempDir()
	obsPath := func(name string) string { return filepath.Join(obsDir, name+".jsonl") }
	onionCfg := func(name, extra string) string {
		return onionBlock(obsPath(name), "  lease_lifetime = \"2m\"\n"+extra)
	}
	var relays []*host
	for i := range 5 {
		name := fmt.Sprintf("R%d", i)
		r := newHost(t, name, hostOpts{config: onionCfg(name, "")})
		startAll(r)
		relays = append(relays, r)
	}
	for i, r := range relays {
		for _, s := range relays[i+1:] {
			hosttest.Introduce(t, r.Host, s.Host)
		}
	}
	knowRelays := func(h *host) {
		for _, r := range relays {
			hosttest.Introduce(t, h.Host, r.Host)
		}
	}

	// F: reachable by id only, through its lease set; R0 is its guard.
	f := newHost(t, "F", hostOpts{config: onionCfg("F", fmt.Sprintf("  client_only = true\n  guards = [%q]\n", relays[0].ID))})
	startAll(f)
	knowRelays(f)
	storers := waitLeasePublished(t, obsPath("F"), 60*time.Second)
	t.Logf("F's lease set stored at %d nodes", len(storers))

	// A's guard is neither F's guard nor a node that stores F's lease set,
	// so that every role in the test is played by a different relay.
	var guardA *host
	for _, r := range relays[1:] {
		if !slices.Contains(storers, r.ID) {
			guardA = r
			break
		}
	}
	if guardA == nil {
		t.Fatalf("every relay but F's guard stores F's lease set (%v)", storers)
	}
	a := newHost(t, "A", hostOpts{config: onionCfg("A", fmt.Sprintf("  client_only = true\n  publish = false\n  guards = [%q]\n", guardA.ID))})
	startAll(a)
	knowRelays(a)

	// A → F by id, three envelopes.
	begin := time.Now()
	want := map[string]bool{}
	for i := range 3 {
		body := fmt.Sprintf("A to F #%d", i)
		want[body] = true
		a.Send(f.Host, body)
	}
	hosttest.CheckExactlyOnce(t, f.WaitInbox(3, 90*time.Second), want, a.ID)
	t.Logf("A reached F through F's lease set: 3 envelopes in %v (lookup included)", time.Since(begin).Round(time.Millisecond))
	begin = time.Now()

	// F → A on A's reply blocks.
	f.Send(a.Host, "F to A")
	back := a.WaitInbox(1, 90*time.Second)
	if string(back[0].Envelope.Payload) != "F to A" || back[0].From != f.ID {
		t.Fatalf("A got %q from %s", back[0].Envelope.Payload, back[0].From)
	}
	t.Logf("F answered on A's reply blocks in %v", time.Since(begin).Round(time.Millisecond))
	begin = time.Now()

	// A relay dies in the middle of a batch: the rest still arrives, over
	// other paths and gateways (the courier retransmits until acked).
	var victim *host
	for _, r := range relays[1:] {
		if r != guardA {
			victim = r
			break
		}
	}
	for i := range 6 {
		body := fmt.Sprintf("batch #%d", i)
		want[body] = true
		a.Send(f.Host, body)
		if i == 2 {
			victim.Kill9()
			t.Logf("killed relay %s", victim.Name)
		}
	}
	hosttest.CheckExactlyOnce(t, f.WaitInbox(9, 180*time.Second), want, a.ID)
	t.Logf("the batch of 6 arrived despite the dead relay, %v after it started", time.Since(begin).Round(time.Millisecond))

	// What each node saw.
	addrID := map[string]string{}
	for _, h := range append([]*host{a, f}, relays...) {
		addrID["127.0.0.1:"+strconv.Itoa(h.port)] = h.ID
	}
	forwarded := 0
	for _, r := range relays {
		saw := map[string]bool{}
		for _, l := range observations(t, obsPath(r.Name)) {
			if from, ok := l["from"].(string); ok {
				saw[addrID[from]] = true
			}
			for _, k := range []string{"next", "owner"} {
				if id, ok := l[k].(string); ok {
					saw[id] = true
				}
			}
			if l["next"] != nil {
				forwarded++
			}
		}
		if saw[a.ID] && saw[f.ID] {
			t.Errorf("relay %s saw both A and F", r.Name)
		}
	}
	if forwarded == 0 {
		t.Fatal("no relay forwarded a packet")
	}
	// The same counts reach the API.
	var relayed uint64
	for _, r := range relays {
		if r == victim {
			continue
		}
		if o := r.Status().Onion; o != nil {
			relayed += o.Forwarded
		}
	}
	if relayed == 0 {
		t.Error("status reports no relayed packets")
	}
	if o := f.Status().Onion; o == nil || o.LeaseExpires.IsZero() {
		t.Errorf("F's status shows no published lease set: %+v", o)
	}
	for _, p := range [][2]*host{{a, f}, {f, a}} {
		addr := "127.0.0.1:" + strconv.Itoa(p[1].port)
		for _, l := range observations(t, obsPath(p[0].Name)) {
			if l["from"] == addr {
				t.Errorf("%s received a packet straight from %s", p[0].Name, p[1].Name)
			}
		}
		peers, err := p[0].C.Peers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, pi := range peers {
			if pi.NodeID == p[1].ID && len(pi.Addresses) > 0 {
				t.Errorf("%s knows %s's addresses %v", p[0].Name, p[1].Name, pi.Addresses)
			}
		}
		if strings.Contains(p[0].Logs(), addr) {
			t.Errorf("%s's log mentions %s's address %s", p[0].Name, p[1].Name, addr)
		}
	}
}

// waitLeasePublished waits for the first lease_published line in an
// observation log and returns the ids it was stored at.
func waitLeasePublished(t *testing.T, path string, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, l := range observations(t, path) {
			if l["event"] != "lease_published" {
				continue
			}
			var ids []string
			for _, v := range l["stored_at"].([]any) {
				ids = append(ids, v.(string))
			}
			if len(ids) > 0 {
				return ids
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no lease set published in %v (%s)", within, path)
	return nil
}
