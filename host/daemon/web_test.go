package daemon_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/web"
	"github.com/onemfive/onemfive/internal/hosttest"
)

// TestWebProxy: an application fetches a plain-HTTP and an HTTPS site on
// loopback through the daemon's web proxy; the ManCon policy routes the
// requests over the direct transport plugin's stream dialling (a real
// plugin process, streams over its gRPC Dial). A level whose route needs
// a relay peer, a .onion without Tor and a wrong password get clear
// answers.
func TestWebProxy(t *testing.T) {
	policyFile, err := filepath.Abs("testdata/policy/web.hcl")
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, "W", hostOpts{config: fmt.Sprintf("mancon = \"LOW\"\npolicies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"10s\"\n}", policyFile)})
	h.Start()
	h.WaitPlugin("direct", "ready", 30*time.Second)
	proxy := h.WebProxyURL("")
	token, _ := proxy.User.Password()

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "" {
			http.Error(w, "proxy credentials leaked to the site", 400)
			return
		}
		fmt.Fprintf(w, "plain %s", r.URL.Path)
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "secure %s", r.URL.Path)
	}))
	defer secure.Close()

	through := func(user, pass string) *http.Client {
		u := &url.URL{Scheme: "http", Host: proxy.Host, User: url.UserPassword(user, pass)}
		return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(u),
			TLSClientConfig: &tls.Config{RootCAs: secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}}
	}
	get := func(c *http.Client, u string) (int, http.Header, string) {
		r := hosttest.WebGet(c, u)
		if r.Err != nil {
			return 0, nil, r.Err.Error()
		}
		return r.Code, r.Header, r.Body
	}

	low := through("LOW", token)
	if code, hdr, body := get(low, plain.URL+"/a"); code != 200 || body != "plain /a" || hdr.Get(web.NetworkHeader) != "direct" {
		t.Fatalf("plain HTTP through the proxy: %d %q (network %q)", code, body, hdr.Get(web.NetworkHeader))
	}
	if code, _, body := get(low, secure.URL+"/b"); code != 200 || body != "secure /b" {
		t.Fatalf("HTTPS through the proxy: %d %q", code, body)
	}
	// HIGH routes through a peer with Tor: this host knows none (and
	// relaying through peers is not built), and the answer says why.
	code, _, body := get(through("HIGH", token), plain.URL+"/c")
	if code != http.StatusBadGateway || !strings.Contains(body, "at ManCon HIGH") || !strings.Contains(body, "no known peer over direct with tor") {
		t.Fatalf("HIGH: %d %q", code, body)
	}
	// A .onion without a Tor transport: the route is tried and fails.
	code, _, body = get(low, "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion/")
	if code != http.StatusBadGateway || !strings.Contains(body, "tor") || !strings.Contains(body, "on failure: site_down") {
		t.Fatalf(".onion without tor: %d %q", code, body)
	}
	if code, hdr, _ := get(through("LOW", "not-the-token"), plain.URL+"/d"); code != http.StatusProxyAuthRequired || hdr.Get("Proxy-Authenticate") == "" {
		t.Fatalf("wrong password: %d", code)
	}
	// The CLI shows the proxy.
	out, err := h.CLI("status")
	if err != nil || !strings.Contains(out, "web proxy") || !strings.Contains(out, proxy.Host) {
		t.Fatalf("onemfive status: %v\n%s", err, out)
	}
}
