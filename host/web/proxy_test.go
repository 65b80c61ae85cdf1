package web

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/envelope"
)

const token = "s3cret-token"

// fakeRouter plans fixed routes and dials loopback for the networks in
// up; every other network fails.
type fakeRouter struct {
	routes []policy.RoutePlan
	up     map[string]bool

	mu     sync.Mutex
	levels []envelope.ManCon
	hosts  []string
	dialed []string
}

func (f *fakeRouter) Plan(host string, level envelope.ManCon) (policy.Plan, error) {
	f.mu.Lock()
	f.levels = append(f.levels, level)
	f.hosts = append(f.hosts, host)
	f.mu.Unlock()
	lvl := level
	if lvl == envelope.ManConUnset {
		lvl = envelope.LOW
	}
	return policy.Plan{Level: lvl, Kind: envelope.KindWeb, Rule: "test.hcl:1:1", Routes: f.routes,
		OnFailure: []policy.Fallback{{Action: policy.SiteDown}}, Explain: []string{"web rule at test.hcl:1:1: catch-all"}}, nil
}

func (f *fakeRouter) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	f.dialed = append(f.dialed, network)
	f.mu.Unlock()
	if !f.up[network] {
		return nil, fmt.Errorf("%s: not ready here", network)
	}
	// Test sites listen on loopback under the name "site.test".
	_, port, _ := net.SplitHostPort(addr)
	var d net.Dialer
	return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
}

func startProxy(t *testing.T, r Router) (*Proxy, string) {
	t.Helper()
	p, err := New(Config{Token: token, Router: r, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.Shutdown(ctx)
	})
	return p, ln.Addr().String()
}

// client uses the proxy with user and password.
func client(addr string, user *url.Userinfo) *http.Client {
	u := &url.URL{Scheme: "http", Host: addr, User: user}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(u),
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the httptest site's own certificate
	}}
}

// siteURL names a loopback test server as site.test (the fake router dials
// loopback whatever the host).
func siteURL(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	u.Host = "site.test:" + u.Port()
	return u.String()
}

func TestForwardPlainHTTP(t *testing.T) {
	var gotHeaders http.Header
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeaders = r.Header.Clone()
		fmt.Fprintf(w, "hello from %s%s", r.Host, r.URL.Path)
	}))
	defer site.Close()
	fr := &fakeRouter{routes: []policy.RoutePlan{{Network: "tor", Rule: "a:1"}, {Network: "i2p", Rule: "a:2"}}, up: map[string]bool{"i2p": true}}
	_, addr := startProxy(t, fr)

	req, _ := http.NewRequest("GET", siteURL(t, site)+"/page", nil)
	req.Header.Set(LevelHeader, "medium")
	resp, err := client(addr, url.UserPassword("anyone", token)).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "hello from site.test:") || !strings.HasSuffix(string(body), "/page") {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	if n := resp.Header.Get(NetworkHeader); n != "i2p" {
		t.Errorf("%s = %q, want i2p (tor failed first)", NetworkHeader, n)
	}
	for _, h := range []string{"Proxy-Authorization", LevelHeader, "Proxy-Connection"} {
		if gotHeaders.Get(h) != "" {
			t.Errorf("the site received %s", h)
		}
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if len(fr.levels) != 1 || fr.levels[0] != envelope.MEDIUM || fr.hosts[0] != "site.test" {
		t.Errorf("planned %v for %v, want MEDIUM for site.test", fr.levels, fr.hosts)
	}
	if strings.Join(fr.dialed, ",") != "tor,i2p" {
		t.Errorf("dialled %v, want tor then i2p", fr.dialed)
	}
}

func TestConnectTunnelTLS(t *testing.T) {
	site := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secret page")
	}))
	defer site.Close()
	fr := &fakeRouter{routes: []policy.RoutePlan{{Network: "tor"}}, up: map[string]bool{"tor": true}}
	_, addr := startProxy(t, fr)
	// The user name names the level.
	resp, err := client(addr, url.UserPassword("veryhigh", token)).Get(siteURL(t, site))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "secret page" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if len(fr.levels) != 1 || fr.levels[0] != envelope.VERYHIGH {
		t.Errorf("planned at %v, want VERYHIGH from the user name", fr.levels)
	}
}

func TestAuthRequired(t *testing.T) {
	fr := &fakeRouter{routes: []policy.RoutePlan{{Network: "tor"}}, up: map[string]bool{"tor": true}}
	_, addr := startProxy(t, fr)
	for name, user := range map[string]*url.Userinfo{"none": nil, "wrong": url.UserPassword("x", "nope"), "no password": url.User(token)} {
		resp, err := client(addr, user).Get("http://site.test:1/")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusProxyAuthRequired || !strings.HasPrefix(resp.Header.Get("Proxy-Authenticate"), "Basic") {
			t.Errorf("%s: status %d, Proxy-Authenticate %q", name, resp.StatusCode, resp.Header.Get("Proxy-Authenticate"))
		}
	}
	if len(fr.dialed) != 0 {
		t.Errorf("unauthenticated requests dialled %v", fr.dialed)
	}
}

func TestSiteDownExplains(t *testing.T) {
	fr := &fakeRouter{routes: []policy.RoutePlan{
		{Network: "i2p", Rule: "p.hcl:3:5", Via: []policy.Relay{{Network: "i2p", PeerHas: []string{"tor"}}}},
		{Network: "i2p", Rule: "p.hcl:4:5", Hops: policy.IntRange{Min: 1, Max: 1}},
		{Network: "tor", Rule: "p.hcl:5:5"},
	}, up: map[string]bool{}}
	_, addr := startProxy(t, fr)
	c := client(addr, url.UserPassword("", token))
	for _, target := range []string{"http://down.test:80/", "https://down.test:443/"} {
		resp, err := c.Get(target)
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("%s: status %d, want 502", target, resp.StatusCode)
			}
		} else if !strings.Contains(err.Error(), "Bad Gateway") {
			t.Fatalf("%s: %v", target, err)
		}
		if strings.HasPrefix(target, "https") {
			continue // the client reports a failed CONNECT without its body
		}
		for _, want := range []string{"down.test is unreachable at ManCon LOW", "this router cannot relay web requests through peers",
			"asks for 1 onion hops", "tor (p.hcl:5:5): tor: not ready here", "on failure: site_down", "catch-all"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s: answer lacks %q:\n%s", target, want, body)
			}
		}
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	for _, n := range fr.dialed {
		if n != "tor" {
			t.Errorf("dialled %s for a route the proxy cannot carry", n)
		}
	}
}

// TestConnectRaw speaks CONNECT by hand: the site-down body, bad targets
// and bad levels.
func TestConnectRaw(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	_, echoPort, _ := net.SplitHostPort(echo.Addr().String())
	fr := &fakeRouter{routes: []policy.RoutePlan{{Network: "tor"}}, up: map[string]bool{"tor": true}}
	p, addr := startProxy(t, fr)
	auth := "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+token)) + "\r\n"

	ask := func(req string) (*bufio.Reader, net.Conn, *http.Response) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		return br, c, resp
	}
	for req, want := range map[string]int{
		"CONNECT nocolon HTTP/1.1\r\nHost: nocolon\r\n" + auth + "\r\n":                                       400,
		"CONNECT site.test:99999 HTTP/1.1\r\nHost: site.test:99999\r\n" + auth + "\r\n":                       400,
		"CONNECT site.test:1 HTTP/1.1\r\nHost: site.test:1\r\n" + LevelHeader + ": ULTRA\r\n" + auth + "\r\n": 400,
		"GET /relative HTTP/1.1\r\nHost: site.test\r\n" + auth + "\r\n":                                       400,
	} {
		_, c, resp := ask(req)
		c.Close()
		if resp.StatusCode != want {
			t.Errorf("%q: status %d, want %d", strings.SplitN(req, "\r\n", 2)[0], resp.StatusCode, want)
		}
	}
	// A tunnel carries bytes both ways, including bytes sent with the
	// request; Shutdown closes it.
	br, c, resp := ask("CONNECT site.test:" + echoPort + " HTTP/1.1\r\nHost: site.test\r\n" + auth + "\r\n")
	defer c.Close()
	if resp.StatusCode != 200 || resp.Header.Get(NetworkHeader) != "tor" {
		t.Fatalf("CONNECT: status %d, network %q", resp.StatusCode, resp.Header.Get(NetworkHeader))
	}
	if _, err := io.WriteString(c, "ping"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo %q %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if !errors.As(err, &ne) || ne.Timeout() {
			t.Fatalf("tunnel after Shutdown: read %v, want it closed", err)
		}
	}
}

// relayRouter is fakeRouter that can also go through a relay peer.
type relayRouter struct {
	*fakeRouter
	relayed []policy.RoutePlan
}

func (r *relayRouter) RelayDial(ctx context.Context, route policy.RoutePlan, addr string) (net.Conn, string, error) {
	r.mu.Lock()
	r.relayed = append(r.relayed, route)
	r.mu.Unlock()
	if route.Network != "i2p" {
		return nil, "", fmt.Errorf("no peer over %s", route.Network)
	}
	_, port, _ := net.SplitHostPort(addr)
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
	return c, "i2p via peerpeer (tor)", err
}

// TestRelayRoute: a route through a relay peer goes to the router's
// RelayDial, with the step, and the answer names it.
func TestRelayRoute(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fetched by the peer") }))
	defer site.Close()
	via := []policy.Relay{{Network: "i2p", PeerHas: []string{"tor"}, Candidates: []string{"peerpeer"}}}
	rr := &relayRouter{fakeRouter: &fakeRouter{routes: []policy.RoutePlan{
		{Network: "tor", Rule: "p:1", Via: via},
		{Network: "i2p", Rule: "p:2", Hops: policy.IntRange{Min: 1, Max: 1}, Via: via},
	}}}
	_, addr := startProxy(t, rr)
	resp, err := client(addr, url.UserPassword("HIGH", token)).Get(siteURL(t, site))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "fetched by the peer" || resp.Header.Get(NetworkHeader) != "i2p via peerpeer (tor)" {
		t.Fatalf("status %d body %q network %q", resp.StatusCode, body, resp.Header.Get(NetworkHeader))
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if len(rr.relayed) != 2 || rr.relayed[1].Hops.Min != 1 || len(rr.relayed[1].Via) != 1 {
		t.Fatalf("RelayDial got %+v, want the tor step, then the i2p step with its hop and via", rr.relayed)
	}
	if len(rr.dialed) != 0 {
		t.Errorf("direct dials %v for relay routes", rr.dialed)
	}
}

func TestNewRejectsMissingPieces(t *testing.T) {
	if _, err := New(Config{Router: &fakeRouter{}}); err == nil {
		t.Error("no token accepted")
	}
	if _, err := New(Config{Token: "x"}); err == nil {
		t.Error("no router accepted")
	}
}

func FuzzAuthorization(f *testing.F) {
	p, err := New(Config{Token: token, Router: &fakeRouter{}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("HIGH:"+token)), "Basic", "Bearer x", "Basic !!!", ""} {
		f.Add(s, "")
	}
	f.Add("", "veryhigh")
	f.Fuzz(func(t *testing.T, h, level string) {
		r := &http.Request{Header: http.Header{"Proxy-Authorization": {h}}}
		user, ok := p.authorized(r)
		if ok {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(strings.SplitN(h, " ", 2)[1]))
			if !strings.HasSuffix(string(raw), ":"+token) {
				t.Fatalf("accepted %q without the token", h)
			}
		}
		m, err := requestLevel(user, level)
		if err != nil && level == "" {
			t.Fatalf("no header, yet error %v", err)
		}
		if !m.Valid() {
			t.Fatalf("level %d out of range", m)
		}
	})
}
