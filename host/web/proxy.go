package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// LevelHeader names a ManCon level for one request; the proxy removes it
// before forwarding.
const LevelHeader = "X-Onemfive-ManCon"

// NetworkHeader, on the proxy's answer (the CONNECT response or the
// forwarded response), names the network that carried the request.
const NetworkHeader = "X-Onemfive-Network"

// Router is what the proxy needs from the daemon.
type Router interface {
	// Plan returns the web plan for host at the requested level
	// (envelope.ManConUnset for the node's level).
	Plan(host string, level envelope.ManCon) (policy.Plan, error)
	// Dial opens a stream to addr (host:port) over network.
	Dial(ctx context.Context, network, addr string) (net.Conn, error)
}

// RelayDialer is what a Router implements when it can carry a route
// through a relay peer (host/webrelay): the peer dials addr and the
// returned stream carries the bytes. The string names how (for the
// NetworkHeader).
type RelayDialer interface {
	RelayDial(ctx context.Context, route policy.RoutePlan, addr string) (net.Conn, string, error)
}

// PeerRelayer is what a Router implements when it can carry the
// on_failure action relay_via_peers: each of peers in turn is asked to
// fetch addr over one of networks (most wanted first), and the first that
// can answers directly.
type PeerRelayer interface {
	RelayViaPeers(ctx context.Context, peers, networks []string, addr string) (net.Conn, string, error)
}

// Config configures a Proxy.
type Config struct {
	// Token is the password Proxy-Authorization must carry. Required.
	Token string
	// Router plans and dials. Required.
	Router Router
	// Log receives one line per request. Default: no logging.
	Log hclog.Logger
	// DialTimeout bounds each route's attempt. Default 60 s (a first
	// stream to an onion service can take tens of seconds).
	DialTimeout time.Duration
	// Done, if set, is told the outcome of every request: the network
	// this node used ("" when none worked; through a relay peer, the one
	// that reaches the peer) and the error.
	Done func(host, network string, err error)
}

// Proxy is the HTTP proxy. Create it with New; it implements
// http.Handler.
type Proxy struct {
	cfg Config
	fwd *httputil.ReverseProxy
	srv *http.Server

	mu      sync.Mutex
	tunnels map[net.Conn]struct{}
	closed  bool
}

// New checks cfg and returns a proxy.
func New(cfg Config) (*Proxy, error) {
	switch {
	case cfg.Token == "":
		return nil, errors.New("web: no token")
	case cfg.Router == nil:
		return nil, errors.New("web: no router")
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 60 * time.Second
	}
	p := &Proxy{cfg: cfg, tunnels: map[net.Conn]struct{}{}}
	tr := &http.Transport{
		Proxy:                  nil, // never chain to the environment's proxy
		DialContext:            p.dialForward,
		DisableKeepAlives:      true, // a connection is routed for one request's level
		ResponseHeaderTimeout:  5 * time.Minute,
		MaxResponseHeaderBytes: 1 << 20,
	}
	p.fwd = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = pr.In.URL
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Del(LevelHeader)
			pr.Out.Header.Del("Proxy-Authorization")
			pr.Out.Header.Del("Proxy-Connection")
		},
		Transport: tr,
		ModifyResponse: func(r *http.Response) error {
			if rc := routeOf(r.Request.Context()); rc != nil && rc.how != "" {
				r.Header.Set(NetworkHeader, rc.how)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var se *siteError
			if errors.As(err, &se) {
				writeSiteError(w, se)
				return
			}
			http.Error(w, "onemfive web proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p, nil
}

// Serve answers proxy requests on ln until Shutdown.
func (p *Proxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return http.ErrServerClosed
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: p.cfg.Log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug})}
	srv := p.srv
	p.mu.Unlock()
	return srv.Serve(ln)
}

// Shutdown stops accepting requests, closes open tunnels and waits for
// forwarded requests until ctx ends.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	srv := p.srv
	for c := range p.tunnels {
		c.Close()
	}
	p.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// route is what a request's context carries: its level and, once dialled,
// the network this node used and how the request went (NetworkHeader: the
// network, or e.g. "i2p via <peer> (tor)" through a relay peer).
type route struct {
	level   envelope.ManCon
	network string
	how     string
}

type routeKey struct{}

func routeOf(ctx context.Context) *route {
	r, _ := ctx.Value(routeKey{}).(*route)
	return r
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, ok := p.authorized(r)
	if !ok {
		w.Header().Set("Proxy-Authenticate", `Basic realm="onemfive"`)
		http.Error(w, "onemfive web proxy: the daemon's API token is needed as the proxy password (data dir, api.cookie)", http.StatusProxyAuthRequired)
		return
	}
	level, err := requestLevel(user, r.Header.Get(LevelHeader))
	if err != nil {
		http.Error(w, "onemfive web proxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	rt := &route{level: level}
	ctx := context.WithValue(r.Context(), routeKey{}, rt)
	if r.Method == http.MethodConnect {
		p.tunnel(ctx, w, r, rt)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, fmt.Sprintf("onemfive web proxy: want an absolute http:// URL or CONNECT, got %s %q", r.Method, r.URL), http.StatusBadRequest)
		return
	}
	r.Header.Del(LevelHeader)
	p.fwd.ServeHTTP(w, r.WithContext(ctx))
	p.cfg.Log.Debug("forwarded", "host", r.URL.Hostname(), "network", rt.network)
}

// authorized checks Proxy-Authorization and returns its user name.
func (p *Proxy) authorized(r *http.Request) (string, bool) {
	h := r.Header.Get("Proxy-Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(p.cfg.Token)) != 1 {
		return "", false
	}
	return user, true
}

// requestLevel reads the level a request asks for: the header, else a
// user name that names a level; anything else means the node's level.
func requestLevel(user, header string) (envelope.ManCon, error) {
	if header != "" {
		m, err := envelope.ParseManCon(header)
		if err != nil {
			return envelope.ManConUnset, fmt.Errorf("%s: %w", LevelHeader, err)
		}
		return m, nil
	}
	if m, err := envelope.ParseManCon(user); err == nil {
		return m, nil
	}
	return envelope.ManConUnset, nil
}

// tunnel serves CONNECT: it routes a stream to the target and splices it
// with the client's connection.
func (p *Proxy) tunnel(ctx context.Context, w http.ResponseWriter, r *http.Request, rt *route) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || host == "" {
		http.Error(w, fmt.Sprintf("onemfive web proxy: CONNECT target %q is not host:port", r.Host), http.StatusBadRequest)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		http.Error(w, fmt.Sprintf("onemfive web proxy: CONNECT target %q: bad port", r.Host), http.StatusBadRequest)
		return
	}
	upstream, err := p.connect(ctx, host, port, rt)
	if err != nil {
		var se *siteError
		if errors.As(err, &se) {
			writeSiteError(w, se)
		} else {
			http.Error(w, "onemfive web proxy: "+err.Error(), http.StatusBadGateway)
		}
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "onemfive web proxy: connection cannot be taken over", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	if !p.track(client, upstream) {
		client.Close()
		upstream.Close()
		return
	}
	defer p.untrack(client, upstream)
	fmt.Fprintf(buf, "HTTP/1.1 200 Connection established\r\n%s: %s\r\n\r\n", NetworkHeader, rt.how)
	if err := buf.Flush(); err != nil {
		return
	}
	// Bytes the client sent after its request, already buffered.
	if n := buf.Reader.Buffered(); n > 0 {
		b, _ := buf.Reader.Peek(n)
		if _, err := upstream.Write(b); err != nil {
			return
		}
	}
	splice(client, upstream)
	p.cfg.Log.Debug("tunnel closed", "host", host, "network", rt.network)
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.tunnels[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.tunnels, c)
	}
}

// splice copies both ways until either side ends, then closes both.
func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Half-close where the stream allows it, so a response still in
		// flight is not cut off.
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// dialForward is the forwarding transport's dialer: it routes by the
// request's plan.
func (p *Proxy) dialForward(ctx context.Context, _, addr string) (net.Conn, error) {
	rt := routeOf(ctx)
	if rt == nil {
		return nil, errors.New("web: request without a route")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	return p.connect(ctx, host, port, rt)
}

// siteError is a request no route could carry.
type siteError struct {
	host    string
	plan    policy.Plan
	tried   []string
	actions []string
}

func (e *siteError) Error() string {
	return fmt.Sprintf("%s: site down at %s (%s)", e.host, e.plan.Level, strings.Join(e.tried, "; "))
}

func writeSiteError(w http.ResponseWriter, e *siteError) {
	var b strings.Builder
	fmt.Fprintf(&b, "onemfive web proxy: %s is unreachable at ManCon %s (rule %s).\n", e.host, e.plan.Level, e.plan.Rule)
	if len(e.tried) == 0 {
		b.WriteString("No route of the plan was usable (the plan below says why).\n")
	}
	for _, t := range e.tried {
		fmt.Fprintf(&b, "  route %s\n", t)
	}
	for _, a := range e.actions {
		fmt.Fprintf(&b, "  on failure: %s\n", a)
	}
	b.WriteString("Plan:\n")
	for _, x := range e.plan.Explain {
		fmt.Fprintf(&b, "  %s\n", x)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadGateway)
	io.WriteString(w, b.String())
}

// connect tries the plan's routes for host in order and returns the first
// stream that opens.
func (p *Proxy) connect(ctx context.Context, host, port string, rt *route) (c net.Conn, err error) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	defer func() {
		if p.cfg.Done != nil {
			p.cfg.Done(host, rt.network, err)
		}
	}()
	plan, err := p.cfg.Router.Plan(host, rt.level)
	if err != nil && !errors.Is(err, policy.ErrNoRoute) {
		return nil, fmt.Errorf("web: plan for %s: %w", host, err)
	}
	se := &siteError{host: host, plan: plan}
	addr := net.JoinHostPort(host, port)
	rd, canRelay := p.cfg.Router.(RelayDialer)
	for _, r := range plan.Routes {
		switch {
		case len(r.Via) > 0 && !canRelay:
			se.tried = append(se.tried, fmt.Sprintf("%s (%s): goes through a relay peer with %s, which fetches; this router cannot relay web requests through peers",
				r.Network, r.Rule, strings.Join(r.Via[0].PeerHas, ", ")))
			continue
		case len(r.Via) > 0:
			// The relay peer fetches; the frames to it follow the step's
			// network and onion hops. Peers along a chain may hold the
			// open for their delays first.
			hold := time.Duration(0)
			for _, v := range r.Via {
				hold += v.Delay.Max
			}
			dctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout+hold)
			c, how, err := rd.RelayDial(dctx, r, addr)
			cancel()
			if err == nil {
				rt.network, rt.how = r.Network, how
				p.cfg.Log.Debug("routed through a relay peer", "host", host, "how", how, "level", plan.Level)
				return c, nil
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("web: %s: %w", host, ctx.Err())
			}
			se.tried = append(se.tried, fmt.Sprintf("%s via a peer with %s (%s): %v", r.Network, strings.Join(r.Via[0].PeerHas, ", "), r.Rule, err))
			continue
		case r.Hops.Min > 0:
			// The policy gives such steps an exit peer; a plan without
			// one cannot be fetched here without dropping the hops.
			se.tried = append(se.tried, fmt.Sprintf("%s (%s): asks for %s onion hops before the network and names no exit peer to fetch after them",
				r.Network, r.Rule, r.Hops))
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
		c, err := p.cfg.Router.Dial(dctx, r.Network, addr)
		cancel()
		if err == nil {
			rt.network, rt.how = r.Network, r.Network
			p.cfg.Log.Debug("routed", "host", host, "network", r.Network, "level", plan.Level)
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("web: %s: %w", host, ctx.Err())
		}
		se.tried = append(se.tried, fmt.Sprintf("%s (%s): %v", r.Network, r.Rule, err))
	}
	for _, f := range plan.OnFailure {
		if f.Action != policy.RelayViaPeers {
			se.actions = append(se.actions, string(f.Action))
			continue
		}
		pr, ok := p.cfg.Router.(PeerRelayer)
		switch {
		case !ok:
			se.actions = append(se.actions, string(f.Action)+": this router cannot relay web requests through peers")
			continue
		case len(f.Peers) == 0:
			se.actions = append(se.actions, string(f.Action)+": no known peer is reachable")
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
		c, how, err := pr.RelayViaPeers(dctx, f.Peers, fetchNetworks(plan), addr)
		cancel()
		if err == nil {
			rt.network, rt.how = string(policy.RelayViaPeers), how
			p.cfg.Log.Debug("relayed through a peer on failure", "host", host, "how", how, "level", plan.Level)
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("web: %s: %w", host, ctx.Err())
		}
		se.actions = append(se.actions, fmt.Sprintf("%s: %v", f.Action, err))
	}
	p.cfg.Log.Info("site down", "host", host, "level", plan.Level, "tried", len(se.tried))
	return nil, se
}

// fetchNetworks are the networks a peer asked to fetch for plan should
// use: those its routes fetch over, in order, then AnyNetwork.
func fetchNetworks(plan policy.Plan) []string {
	var out []string
	add := func(n string) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, r := range plan.Routes {
		if len(r.Via) == 0 {
			add(r.Network)
			continue
		}
		for _, n := range r.Via[len(r.Via)-1].PeerHas {
			add(n)
		}
	}
	add(AnyNetwork)
	return out
}

// AnyNetwork in the networks a relay peer is asked to fetch over means any
// network it relays over.
const AnyNetwork = "*"

// ProxyURL is the proxy URL an application uses for a proxy at addr with
// token; level, if set, is sent as the user name.
func ProxyURL(addr, token string, level envelope.ManCon) *url.URL {
	user := "onemfive"
	if level.Valid() && level != envelope.ManConUnset {
		user = level.String()
	}
	return &url.URL{Scheme: "http", Host: addr, User: url.UserPassword(user, token)}
}
