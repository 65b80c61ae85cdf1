package direct

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Version is this plugin's release.
const Version = "0.1.0"

// Errors returned by Transport.
var (
	ErrStopped    = errors.New("direct: transport stopped")
	ErrNotStarted = errors.New("direct: transport not started")
	ErrStarted    = errors.New("direct: transport already started")
)

// Transport is the direct TCP transport. Create it with New. Its methods
// are safe for concurrent use.
type Transport struct {
	log   hclog.Logger
	cfg   settings
	given net.Listener // from WithListener, used by Start instead of listening

	sent, received, dropped atomic.Uint64

	mu       sync.Mutex
	started  bool
	stopped  bool
	host     transport.Host
	ln       net.Listener
	self     string   // primary advertised address
	addrs    []string // everything advertised
	peers    map[string]*peer
	conns    map[*conn]struct{}
	links    int // distinct remotes with a handshaken conn, last reported
	tap      *tap
	ctx      context.Context // cancelled by Stop
	cancel   context.CancelFunc
	done     chan struct{} // closed by Stop
	wg       sync.WaitGroup
	eventsMu sync.Mutex // serialises Host.Event calls
}

var (
	_ transport.Transport = (*Transport)(nil)
	_ transport.Dialer    = (*Transport)(nil)
)

// Option adjusts a Transport made by New.
type Option func(*Transport)

// WithLogger sets the logger; the default is sdk.NewLogger("direct"): JSON
// hclog lines on stderr, which the plugin host reads.
func WithLogger(l hclog.Logger) Option {
	return func(t *Transport) { t.log = l }
}

// WithListener makes Start accept on ln instead of listening on the
// configured address: a transport that chooses its own advertised addresses
// (package lan) binds first to learn the port. Stop closes ln.
func WithListener(ln net.Listener) Option {
	return func(t *Transport) { t.given = ln }
}

// New returns an unstarted transport with default settings.
func New(opts ...Option) *Transport {
	t := &Transport{cfg: defaultSettings()}
	for _, o := range opts {
		o(t)
	}
	if t.log == nil {
		t.log = sdk.NewLogger("direct")
	}
	return t
}

// Stats are running totals since New.
type Stats struct {
	Sent     uint64 // packets accepted by Send
	Received uint64 // packets received from peers
	Dropped  uint64 // packets dropped: queue full while dialing, failed dial, dead connection
	Links    int    // peers with a live connection
}

// Stats reports running totals.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	links := t.links
	t.mu.Unlock()
	return Stats{Sent: t.sent.Load(), Received: t.received.Load(), Dropped: t.dropped.Load(), Links: links}
}

// Info implements base.Plugin.
func (t *Transport) Info(ctx context.Context) (base.Info, error) {
	return base.Info{
		Name:         "direct",
		Kind:         base.KindTransport,
		Version:      Version,
		APIVersions:  []int{1},
		Capabilities: []string{"dial"},
	}, nil
}

// Configure implements base.Plugin. It must come before Start.
func (t *Transport) Configure(ctx context.Context, cfg base.Config) error {
	s, err := parseConfig(cfg)
	if err != nil {
		return fmt.Errorf("direct: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started || t.stopped {
		return errors.New("direct: configure: transport already started")
	}
	t.cfg = s
	return nil
}

// Start implements transport.Transport: it listens and returns the
// advertised addresses (the listen address when none are configured).
func (t *Transport) Start(ctx context.Context, h transport.Host) ([]string, error) {
	if h == nil {
		return nil, errors.New("direct: start: nil host")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.stopped:
		return nil, ErrStopped
	case t.started:
		return nil, ErrStarted
	}
	t.host = h
	t.event(transport.Event{State: transport.StateStarting, Phase: "listen", Summary: "listening on " + t.cfg.listen})
	ln, err := t.given, error(nil)
	if ln == nil {
		var lc net.ListenConfig
		ln, err = lc.Listen(ctx, "tcp", t.cfg.listen)
	}
	if err != nil {
		err = fmt.Errorf("direct: listen: %w", err)
		t.event(transport.Event{State: transport.StateFailed, Phase: "listen", Reason: err.Error()})
		return nil, err
	}
	if t.cfg.tapFile != "" {
		if t.tap, err = openTap(t.cfg.tapFile); err != nil {
			ln.Close()
			t.event(transport.Event{State: transport.StateFailed, Phase: "tap", Reason: err.Error()})
			return nil, err
		}
	}
	t.ln = ln
	t.addrs = t.cfg.advertise
	if len(t.addrs) == 0 {
		t.addrs = []string{ln.Addr().String()}
	}
	t.self = t.addrs[0]
	t.peers = make(map[string]*peer)
	t.conns = make(map[*conn]struct{})
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.done = make(chan struct{})
	t.started = true
	t.wg.Add(1)
	go t.acceptLoop(ln)
	t.log.Info("listening", "listen", ln.Addr().String(), "advertise", t.addrs)
	t.event(transport.Event{State: transport.StateReady, Progress: 100, Phase: "ready",
		Summary: fmt.Sprintf("listening on %s, advertising %v", ln.Addr(), t.addrs)})
	return append([]string(nil), t.addrs...), nil
}

func (t *Transport) acceptLoop(ln net.Listener) {
	defer t.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				t.log.Error("accept failed, no longer accepting peers", "error", err)
				t.event(transport.Event{State: transport.StateFailed, Phase: "accept", Reason: err.Error()})
			}
			return
		}
		c := t.track(nc, false)
		if c == nil {
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			if err := c.handshake(); err != nil {
				t.log.Warn("inbound handshake failed", "remote_addr", nc.RemoteAddr().String(), "error", err)
				c.close(nil)
				return
			}
			t.attach(c)
		}()
	}
}

// Send implements transport.Transport. See the package doc for queueing.
func (t *Transport) Send(ctx context.Context, pkts []transport.Packet) error {
	if err := transport.CheckBatch(pkts, checkAddr); err != nil {
		return fmt.Errorf("direct: send: %w", err)
	}
	t.mu.Lock()
	started, stopped, done := t.started, t.stopped, t.done
	t.mu.Unlock()
	switch {
	case stopped:
		return ErrStopped
	case !started:
		return ErrNotStarted
	}
	for _, p := range pkts {
		cp := transport.Packet{Addr: p.Addr, Data: append([]byte(nil), p.Data...)}
		pr, queued, connected := t.enqueue(cp)
		if pr == nil {
			return ErrStopped
		}
		if !queued {
			if !connected {
				pr.dropped.Add(1)
				t.dropped.Add(1)
				continue
			}
			select {
			case pr.q <- cp:
			case <-ctx.Done():
				return fmt.Errorf("direct: send to %s: %w", p.Addr, ctx.Err())
			case <-done:
				return ErrStopped
			}
		}
		t.sent.Add(1)
		t.tap.write(cp.Data)
	}
	return nil
}

// enqueue finds (or creates) the peer for p.Addr and queues p if there is
// room, all under t.mu so an idle peer cannot retire in between. It
// reports whether p was queued and whether the peer is connected; pr is nil
// once stopping.
func (t *Transport) enqueue(p transport.Packet) (pr *peer, queued, connected bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if pr = t.peerLocked(p.Addr); pr == nil {
		return nil, false, false
	}
	select {
	case pr.q <- p:
		queued = true
	default:
	}
	return pr, queued, pr.conn != nil
}

// Stop implements transport.Transport. It closes the listener and every
// connection, waits for all goroutines, and reports stopped. Idempotent.
func (t *Transport) Stop(ctx context.Context) error {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return nil
	}
	t.stopped = true
	if !t.started {
		t.mu.Unlock()
		return nil
	}
	close(t.done)
	t.cancel()
	ln := t.ln
	conns := make([]*conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()

	ln.Close()
	for _, c := range conns {
		c.close(nil)
	}
	t.wg.Wait()
	err := t.tap.close()
	t.log.Info("stopped")
	t.event(transport.Event{State: transport.StateStopped, Phase: "stopped", Summary: "stopped"})
	if err != nil {
		return fmt.Errorf("direct: stop: %w", err)
	}
	return nil
}

// Dial implements transport.Dialer: a plain TCP connection to addr.
func (t *Transport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: t.cfg.dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("direct: dial: %w", err)
	}
	return c, nil
}

// event stamps and reports ev to the host, one at a time.
func (t *Transport) event(ev transport.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	t.eventsMu.Lock()
	defer t.eventsMu.Unlock()
	t.host.Event(ev)
}
