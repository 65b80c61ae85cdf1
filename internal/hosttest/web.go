package hosttest

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/client"
)

// WebProxyURL is the URL of h's web proxy with its password (the API
// token) and user as the user name (a ManCon level, or anything).
func (h *Host) WebProxyURL(user string) *url.URL {
	h.TB.Helper()
	st := h.Status()
	if st.WebProxy == "" {
		h.TB.Fatalf("%s: status shows no web proxy", h.Name)
	}
	tok, err := os.ReadFile(filepath.Join(h.DataDir, client.CookieFile))
	if err != nil {
		h.TB.Fatal(err)
	}
	return &url.URL{Scheme: "http", Host: st.WebProxy, User: url.UserPassword(user, strings.TrimSpace(string(tok)))}
}

// WebResult is one answer through a web proxy.
type WebResult struct {
	Code   int
	Header http.Header
	Body   string
	Err    error
}

// WebGet fetches u with c and reads the whole answer.
func WebGet(c *http.Client, u string) WebResult {
	resp, err := c.Get(u)
	if err != nil {
		return WebResult{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return WebResult{Code: resp.StatusCode, Header: resp.Header, Body: string(b), Err: err}
}

// WebGetUntilOK fetches u through h's proxy (client c) every 2 s until it
// answers 200, and fails tb with the last answer and h's log once within
// has passed. A first stream to a fresh onion service or I2P destination
// can take tens of seconds, and the proxy answers 502 when its own dial
// bound passes first.
func (h *Host) WebGetUntilOK(tb testing.TB, c *http.Client, u string, within time.Duration) WebResult {
	tb.Helper()
	first := time.Now()
	for tries := 1; ; tries++ {
		r := WebGet(c, u)
		if r.Err == nil && r.Code == http.StatusOK {
			tb.Logf("GET %s answered after %v (%d tries)", u, time.Since(first).Round(time.Millisecond), tries)
			return r
		}
		if time.Since(first) > within {
			tb.Fatalf("GET %s through the proxy: %d %q %v (%d tries)\n%s", u, r.Code, r.Body, r.Err, tries, h.Logs())
		}
		tb.Logf("try %d: %d %.200q %v", tries, r.Code, r.Body, r.Err)
		time.Sleep(2 * time.Second)
	}
}

// Site is a test site behind the proxy: it answers body followed by the
// request's path, refuses a request that carries proxy credentials (the
// proxy must not forward them), and records the Host of every request.
type Site struct {
	body  string
	mu    sync.Mutex
	hosts []string
}

// NewSite returns a Site answering body.
func NewSite(body string) *Site { return &Site{body: body} }

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Proxy-Authorization") != "" {
		http.Error(w, "proxy credentials leaked to the site", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.hosts = append(s.hosts, r.Host)
	s.mu.Unlock()
	io.WriteString(w, s.body+" "+r.URL.Path)
}

// Hosts are the Host headers of the requests so far.
func (s *Site) Hosts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.hosts...)
}
