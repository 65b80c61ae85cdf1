package daemon_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/web"
	"github.com/onemfive/onemfive/internal/hosttest"
)

// TestWebThroughRelayPeer: A's policy sends web requests through a peer
// that fetches; P (web { relay = true }) does, and A's application gets
// the pages, plain HTTP and HTTPS through a CONNECT tunnel (TLS end to end
// with the site, P sees only ciphertext), each byte in courier envelopes
// between A and P. A peer that does not relay refuses, and a relay that
// dials only over Tor and I2P (the default) will not dial over a direct
// link, which would let peers reach its own machine; the answers say so.
// A policy whose own route fails asks its peers on failure
// (relay_via_peers).
func TestWebThroughRelayPeer(t *testing.T) {
	policyFile, err := filepath.Abs("testdata/policy/web-relay.hcl")
	if err != nil {
		t.Fatal(err)
	}
	requester := fmt.Sprintf("policies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"20s\"\n}", policyFile)
	a := newHost(t, "A", hostOpts{config: requester})
	p := newHost(t, "P", hostOpts{config: "web {\n  relay = true\n  relay_networks = [\"direct\"]\n}"})
	b := newHost(t, "B", hostOpts{config: requester})                  // knows only N
	n := newHost(t, "N", hostOpts{})                                   // a peer that does not relay
	c2 := newHost(t, "C", hostOpts{config: requester})                 // knows only Q
	q := newHost(t, "Q", hostOpts{config: "web {\n  relay = true\n}"}) // relays over tor and i2p only
	startAll(a, p, b, n, c2, q)
	hosttest.Introduce(t, a.Host, p.Host)
	hosttest.Introduce(t, b.Host, n.Host)
	hosttest.Introduce(t, c2.Host, q.Host)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "page %s %s", r.URL.Path, strings.Repeat("x", 200_000))
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "secure %s", r.URL.Path)
	}))
	defer secure.Close()
	through := func(h *host) *http.Client {
		return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(h.WebProxyURL("HIGH")),
			TLSClientConfig: &tls.Config{RootCAs: secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}}
	}
	c := through(a)
	get := func(u string) (int, http.Header, string) {
		r := hosttest.WebGet(c, u)
		if r.Err != nil {
			return 0, nil, r.Err.Error()
		}
		return r.Code, r.Header, r.Body
	}

	code, hdr, body := get(plain.URL + "/one")
	if code != 200 || !strings.HasPrefix(body, "page /one ") || len(body) != len("page /one ")+200_000 {
		t.Fatalf("plain HTTP through the relay peer: %d, %d bytes %.80q\n%s", code, len(body), body, a.Logs())
	}
	if how := hdr.Get(web.NetworkHeader); !strings.Contains(how, "direct via "+p.ID[:12]) {
		t.Errorf("%s = %q, want it to name the relay peer %s", web.NetworkHeader, how, p.ID[:12])
	}
	if code, _, body := get(secure.URL + "/two"); code != 200 || body != "secure /two" {
		t.Fatalf("HTTPS through the relay peer: %d %q", code, body)
	}
	if !strings.Contains(p.Logs(), "relaying a web stream") {
		t.Error("P's log does not show it relayed")
	}
	// A's inbox holds none of the stream's frames.
	if items := a.WaitInbox(0, time.Second); len(items) != 0 {
		t.Errorf("A's inbox holds %d items after relayed requests", len(items))
	}

	// D's policy fetches over Tor, which D lacks; on failure it asks its
	// peers (P) to fetch, as the default policy's MEDIUM level does.
	fallbackPolicy, err := filepath.Abs("testdata/policy/web-relay-fallback.hcl")
	if err != nil {
		t.Fatal(err)
	}
	d := newHost(t, "D", hostOpts{config: fmt.Sprintf("policies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"20s\"\n}", fallbackPolicy)})
	startAll(d)
	hosttest.Introduce(t, d.Host, p.Host)
	c = through(d)
	code, hdr, body = get(plain.URL + "/fallback")
	if code != 200 || !strings.HasPrefix(body, "page /fallback ") {
		t.Fatalf("relay_via_peers: %d %.300q", code, body)
	}
	if how := hdr.Get(web.NetworkHeader); !strings.Contains(how, "relayed by "+p.ID[:12]) {
		t.Errorf("%s = %q, want it to name the peer that fetched, %s", web.NetworkHeader, how, p.ID[:12])
	}

	// B's only candidate, N, does not relay.
	c = through(b)
	code, _, body = get(plain.URL + "/three")
	if code != http.StatusBadGateway || !strings.Contains(body, "does not relay web requests") {
		t.Fatalf("through a peer that does not relay: %d %q", code, body)
	}
	// C's only candidate, Q, relays but not over direct links.
	c = through(c2)
	code, _, body = get(plain.URL + "/four")
	if code != http.StatusBadGateway || !strings.Contains(body, "relays over [tor i2p] only, not direct") {
		t.Fatalf("through a relay that keeps to tor and i2p: %d %q", code, body)
	}
}

// TestWebThroughRelayPeerOverOnion: as the default policy's HIGH level
// asks, the frames between A and the fetching peer P travel over onion
// paths with a relay before P, and P's frames come back on the reply
// blocks A's frames carried: A is client-only, publishes nothing and is
// not in P's directory (only the onion relays know it), so P never learns
// A's address. The onion relays' logs show they forwarded, and neither
// end received a packet from the other's address. A second request, at a
// level whose step names no peer, goes to P as the exit the policy adds.
func TestWebThroughRelayPeerOverOnion(t *testing.T) {
	policyFile, err := filepath.Abs("testdata/policy/web-relay-onion.hcl")
	if err != nil {
		t.Fatal(err)
	}
	obsDir := t.TempDir()
	obs := func(name string) string { return filepath.Join(obsDir, name+".jsonl") }
	onion := func(name, extra string) string { return onionBlock(obs(name), extra) }
	var relays []*host
	for i := range 3 {
		name := fmt.Sprintf("R%d", i)
		r := newHost(t, name, hostOpts{config: onion(name, "")})
		startAll(r)
		relays = append(relays, r)
	}
	p := newHost(t, "P", hostOpts{config: onion("P", "") + "web {\n  relay = true\n  relay_networks = [\"direct\"]\n}"})
	startAll(p)
	nodes := append(append([]*host(nil), relays...), p)
	for i, x := range nodes {
		for _, y := range nodes[i+1:] {
			hosttest.Introduce(t, x.Host, y.Host)
		}
	}
	a := newHost(t, "A", hostOpts{config: fmt.Sprintf("policies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"90s\"\n}\n", policyFile) +
		onion("A", fmt.Sprintf("  client_only = true\n  publish = false\n  guards = [%q]\n", relays[0].ID))})
	startAll(a)
	// A and the onion relays know each other (a guard must reach its
	// client); P never learns A.
	for _, r := range relays {
		hosttest.Introduce(t, a.Host, r.Host)
	}
	if _, err := a.C.AddPeer(t.Context(), p.Record().Record); err != nil {
		t.Fatal(err)
	}

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "page %s %s", r.URL.Path, strings.Repeat("y", 60_000))
	}))
	defer site.Close()
	c := &http.Client{Timeout: 240 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(a.WebProxyURL("HIGH"))}}
	begin := time.Now()
	r := hosttest.WebGet(c, site.URL+"/onion")
	if r.Err != nil || r.Code != 200 || len(r.Body) != len("page /onion ")+60_000 {
		t.Fatalf("GET through onion paths and the relay peer: %d %v, %d bytes %.1200s\n--- A ---\n%s\n--- P ---\n%s", r.Code, r.Err, len(r.Body), r.Body, a.Logs(), p.Logs())
	}
	t.Logf("a 60 KB page through onion paths and the relay peer in %v (network %q)", time.Since(begin).Round(time.Millisecond), r.Header.Get(web.NetworkHeader))

	// At VERYHIGH the step names no peer; P is the exit the policy adds.
	c = &http.Client{Timeout: 240 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(a.WebProxyURL("VERYHIGH"))}}
	begin = time.Now()
	r = hosttest.WebGet(c, site.URL+"/exit")
	if r.Err != nil || r.Code != 200 || len(r.Body) != len("page /exit ")+60_000 {
		t.Fatalf("GET through onion hops to an exit: %d %v, %d bytes %.1200s", r.Code, r.Err, len(r.Body), r.Body)
	}
	if how := r.Header.Get(web.NetworkHeader); !strings.Contains(how, "via "+p.ID[:12]) {
		t.Errorf("%s = %q, want the exit %s named", web.NetworkHeader, how, p.ID[:12])
	}
	t.Logf("the same through onion hops to an exit in %v", time.Since(begin).Round(time.Millisecond))

	addrOf := map[string]string{a.ID: fmt.Sprintf("127.0.0.1:%d", a.port), p.ID: fmt.Sprintf("127.0.0.1:%d", p.port)}
	forwarded := 0
	for _, rl := range relays {
		for _, l := range observations(t, obs(rl.Name)) {
			if l["next"] != nil {
				forwarded++
			}
		}
	}
	if forwarded == 0 {
		t.Error("no onion relay forwarded a packet: the frames did not take onion paths")
	}
	for _, pair := range [][2]*host{{a, p}, {p, a}} {
		for _, l := range observations(t, obs(pair[0].Name)) {
			if l["from"] == addrOf[pair[1].ID] {
				t.Errorf("%s received a packet straight from %s", pair[0].Name, pair[1].Name)
			}
		}
	}
}

// TestWebThroughRelayChain: as the default policy's NEO web rule asks, A's
// request goes to a peer P1, which holds the open for the second via's
// delay and forwards the stream to a peer it picks itself, P2, which
// fetches. A knows only P1, so only P1 can have picked P2; P1 relays
// nothing itself (it keeps to Tor and I2P) and never dials the site.
func TestWebThroughRelayChain(t *testing.T) {
	policyFile, err := filepath.Abs("testdata/policy/web-relay-chain.hcl")
	if err != nil {
		t.Fatal(err)
	}
	a := newHost(t, "A", hostOpts{config: fmt.Sprintf("policies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"20s\"\n}", policyFile)})
	p1 := newHost(t, "P1", hostOpts{config: "web {\n  relay = true\n}"})
	p2 := newHost(t, "P2", hostOpts{config: "web {\n  relay = true\n  relay_networks = [\"direct\"]\n}"})
	startAll(a, p1, p2)
	hosttest.Introduce(t, a.Host, p1.Host)
	hosttest.Introduce(t, p1.Host, p2.Host)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "chained %s %s", r.URL.Path, strings.Repeat("y", 100_000))
	}))
	defer site.Close()
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(a.WebProxyURL("NEO"))}}
	start := time.Now()
	r := hosttest.WebGet(c, site.URL+"/deep")
	took := time.Since(start)
	if r.Err != nil || r.Code != 200 || !strings.HasPrefix(r.Body, "chained /deep ") || len(r.Body) != len("chained /deep ")+100_000 {
		t.Fatalf("through the chain: %d %v %.200q\n--- A ---\n%s\n--- P1 ---\n%s", r.Code, r.Err, r.Body, a.Logs(), p1.Logs())
	}
	how := r.Header.Get(web.NetworkHeader)
	t.Logf("100 KB through the chain in %v: %s", took, how)
	if !strings.Contains(how, "via "+p1.ID[:12]) || !strings.Contains(how, "via "+p2.ID[:12]) {
		t.Errorf("%s = %q, want both peers of the chain named", web.NetworkHeader, how)
	}
	if took < time.Second {
		t.Errorf("answered after %v, before P1's hold of at least 1s", took)
	}
	if !strings.Contains(p1.Logs(), "forwarding a web stream to a further peer") || strings.Contains(p1.Logs(), "relaying a web stream") {
		t.Error("P1's log does not show it forwarded without fetching")
	}
	if !strings.Contains(p2.Logs(), "relaying a web stream") {
		t.Error("P2's log does not show it fetched")
	}
}
