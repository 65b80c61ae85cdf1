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
// between A and P. A peer that does not relay refuses, and the answer
// says so.
func TestWebThroughRelayPeer(t *testing.T) {
	policyFile, err := filepath.Abs("testdata/policy/web-relay.hcl")
	if err != nil {
		t.Fatal(err)
	}
	requester := fmt.Sprintf("policies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"20s\"\n}", policyFile)
	a := newHost(t, "A", hostOpts{config: requester})
	p := newHost(t, "P", hostOpts{config: "web {\n  relay = true\n}"})
	b := newHost(t, "B", hostOpts{config: requester}) // knows only N
	n := newHost(t, "N", hostOpts{})                  // a peer that does not relay
	for _, h := range []*host{a, p, b, n} {
		h.Start()
		h.WaitPlugin("direct", "ready", 30*time.Second)
	}
	hosttest.Introduce(t, a.Host, p.Host)
	hosttest.Introduce(t, b.Host, n.Host)
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

	// B's only candidate, N, does not relay.
	c = through(b)
	code, _, body = get(plain.URL + "/three")
	if code != http.StatusBadGateway || !strings.Contains(body, "does not relay web requests") {
		t.Fatalf("through a peer that does not relay: %d %q", code, body)
	}
}
