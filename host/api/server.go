package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/sdk/client"
)

// Defaults for the zero values of Server's tuning fields.
const (
	DefaultMaxBody    = 4 << 20 // a maximal valid envelope in JSON fits
	DefaultHeartbeat  = 15 * time.Second
	DefaultInboxLimit = 100
	MaxInboxLimit     = 1000
)

// Server is the local API server. Set the exported fields, then call Serve.
// A Server serves once.
type Server struct {
	Backend Backend // required
	Token   string  // required: the bearer token, as WriteCookie returned it
	// DataDir, if set, is where Serve writes api.addr.
	DataDir string
	// AllowHosts lists further names or addresses (without port, matched
	// case-insensitively) accepted in the Host header besides loopback ones;
	// for a daemon configured with api.allow_remote. Keep it empty otherwise:
	// it widens the DNS-rebinding defence.
	AllowHosts []string
	Logger     hclog.Logger // nil means no logging
	// MaxBody caps request bodies; larger ones get 413. 0 means DefaultMaxBody.
	MaxBody int64
	// Heartbeat is the interval of keep-alive comments on event streams.
	// 0 means DefaultHeartbeat.
	Heartbeat time.Duration

	mu       sync.Mutex
	hs       *http.Server
	stop     context.CancelFunc // ends event streams
	addrPath string
	addr     string
	served   bool
	closed   bool // Shutdown was called
}

// Handler returns the API as an http.Handler, with the Host, Origin and
// token checks in front. Serve uses it; tests may use it directly.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/status", s.handleStatus)
	mux.HandleFunc("/v1/envelopes", s.handleSend)
	mux.HandleFunc("/v1/inbox", s.handleInbox)
	mux.HandleFunc("/v1/events", s.handleEvents)
	mux.HandleFunc("/v1/node", s.handleNode)
	mux.HandleFunc("/v1/peers", s.handlePeers)
	mux.HandleFunc("/v1/mancon", s.handleManCon)
	mux.HandleFunc("/v1/explain", s.handleExplain)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, client.CodeNotFound, "no such endpoint: "+r.URL.Path)
	})
	return s.guard(mux)
}

// Serve answers requests on ln until ctx is done or Shutdown is called, and
// returns nil after a clean shutdown. It writes ln's address to
// <DataDir>/api.addr first.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Backend == nil {
		return errors.New("api: serve: no backend")
	}
	if s.Token == "" {
		return errors.New("api: serve: empty token")
	}
	base, stop := context.WithCancel(context.WithoutCancel(ctx))
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	s.mu.Lock()
	if s.served {
		s.mu.Unlock()
		stop()
		return errors.New("api: serve: server already used")
	}
	if s.closed { // Shutdown won the race with Serve
		s.mu.Unlock()
		stop()
		ln.Close()
		return nil
	}
	s.served, s.hs, s.stop = true, hs, stop
	if s.DataDir != "" {
		s.addr = ln.Addr().String()
		if err := writeFileAtomic(s.DataDir, client.AddrFile, []byte(s.addr+"\n")); err != nil {
			s.mu.Unlock()
			stop()
			return fmt.Errorf("api: serve: write address: %w", err)
		}
		s.addrPath = filepath.Join(s.DataDir, client.AddrFile)
	}
	s.mu.Unlock()
	s.logger().Info("local api listening", "addr", ln.Addr().String())

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.Shutdown(sctx)
		case <-done:
		}
	}()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("api: serve: %w", err)
}

// Shutdown ends open event streams, stops accepting connections, waits for
// requests in flight until ctx is done, and removes api.addr if it still
// holds this server's address. It is safe to call more than once, and
// before Serve (which then returns nil at once).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	hs, stop, path, addr := s.hs, s.stop, s.addrPath, s.addr
	s.addrPath, s.closed = "", true
	s.mu.Unlock()
	if hs == nil {
		return nil
	}
	stop()
	if path != "" {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == addr {
			_ = os.Remove(path)
		}
	}
	if err := hs.Shutdown(ctx); err != nil {
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}

func (s *Server) logger() hclog.Logger {
	if s.Logger == nil {
		return hclog.NewNullLogger()
	}
	return s.Logger
}

// guard applies the checks described in the package documentation.
func (s *Server) guard(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !loopbackHost(r.Host) && !s.allowedHost(r.Host) {
			writeError(w, http.StatusForbidden, client.CodeForbidden, "host must be a loopback name or address")
			return
		}
		if r.Header.Get("Origin") != "" || r.Header.Get("Sec-Fetch-Site") != "" {
			writeError(w, http.StatusForbidden, client.CodeForbidden, "browser requests are not allowed")
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if len(got) > 7 && bytes.EqualFold(got[:7], want[:7]) {
			got = append([]byte("Bearer "), got[7:]...)
		}
		if s.Token == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="onemfive"`)
			writeError(w, http.StatusUnauthorized, client.CodeUnauthorized, "missing or wrong bearer token (see api.cookie in the data directory)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) allowedHost(host string) bool {
	h := hostPart(host)
	for _, a := range s.AllowHosts {
		if a != "" && strings.EqualFold(hostPart(a), h) {
			return true
		}
	}
	return false
}

// hostPart strips the port and IPv6 brackets from a Host header value.
func hostPart(host string) string {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// loopbackHost reports whether a Host header names this machine by a
// loopback name or address.
func loopbackHost(host string) bool {
	h := hostPart(host)
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	if err != nil || ip.Zone() != "" {
		return false
	}
	return ip.Unmap().IsLoopback()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, client.CodeInternal, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(client.ErrorBody{Error: client.ErrorDetail{Code: code, Message: msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// allow answers 405 and returns false unless r.Method is one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, client.CodeMethodNotAllowed, r.Method+" not allowed on "+r.URL.Path)
	return false
}
