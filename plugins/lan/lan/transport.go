package lan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/plugins/direct/direct"
	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Network is the plugin's name, and the network its addresses are listed
// under in peer records.
const Network = "lan"

// Version is this plugin's release.
const Version = "0.1.0"

// Errors returned by Transport.
var (
	ErrStopped      = errors.New("lan: transport stopped")
	ErrNotStarted   = errors.New("lan: transport not started")
	ErrStarted      = errors.New("lan: transport already started")
	ErrNoInterfaces = errors.New("lan: no interfaces")
)

// Transport is the lan transport. Create it with New. Its methods are safe
// for concurrent use.
type Transport struct {
	log hclog.Logger
	cfg settings

	heard, reported, limited, bad, replays atomic.Uint64

	mu      sync.Mutex
	started bool
	stopped bool
	host    transport.Host
	disc    transport.Discoverer // nil when the host does not take discoveries
	inner   *direct.Transport
	links   []link
	socks   []*udpSock
	filter  *filter
	record  []byte
	self    node.ID
	seq     uint64
	nlinks  int // links up, from the direct transport's events
	kick    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup

	eventsMu sync.Mutex // serialises Host.Event calls
}

var (
	_ transport.Transport = (*Transport)(nil)
	_ transport.Announcer = (*Transport)(nil)
	_ transport.Dialer    = (*Transport)(nil)
)

// Option adjusts a Transport made by New.
type Option func(*Transport)

// WithLogger sets the logger; the default is sdk.NewLogger("lan").
func WithLogger(l hclog.Logger) Option {
	return func(t *Transport) { t.log = l }
}

// New returns an unstarted transport with default settings.
func New(opts ...Option) *Transport {
	t := &Transport{cfg: defaultSettings(), kick: make(chan struct{}, 1)}
	for _, o := range opts {
		o(t)
	}
	if t.log == nil {
		t.log = sdk.NewLogger(Network)
	}
	return t
}

// Stats are running totals since New.
type Stats struct {
	Heard    uint64 // announcements received that verified
	Reported uint64 // records handed to the host (new peers, newer records)
	Limited  uint64 // announcements dropped by the per-source rate limit
	Bad      uint64 // announcements that did not decode or verify
	Replays  uint64 // announcements not newer than what was heard
	Seen     int    // peers currently heard
	Links    int    // peers with a live link
}

// Stats reports running totals.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	f, links := t.filter, t.nlinks
	t.mu.Unlock()
	s := Stats{Heard: t.heard.Load(), Reported: t.reported.Load(), Limited: t.limited.Load(),
		Bad: t.bad.Load(), Replays: t.replays.Load(), Links: links}
	if f != nil {
		s.Seen = f.seen()
	}
	return s
}

// Info implements base.Plugin.
func (t *Transport) Info(ctx context.Context) (base.Info, error) {
	return base.Info{
		Name:         Network,
		Kind:         base.KindTransport,
		Version:      Version,
		APIVersions:  []int{1},
		Capabilities: []string{"dial", "announce"},
	}, nil
}

// Configure implements base.Plugin. It must come before Start.
func (t *Transport) Configure(ctx context.Context, cfg base.Config) error {
	s, err := parseConfig(cfg)
	if err != nil {
		return fmt.Errorf("lan: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started || t.stopped {
		return errors.New("lan: configure: transport already started")
	}
	t.cfg = s
	return nil
}

// Start implements transport.Transport: it picks the interfaces, starts the
// links (a direct transport listening on listen_port and advertising the
// interfaces' addresses) and the announcement sockets, and returns the
// link addresses. With no usable interface it reports a failed event with
// phase "no_interfaces" and fails, so the host retries later.
func (t *Transport) Start(ctx context.Context, h transport.Host) ([]string, error) {
	if h == nil {
		return nil, errors.New("lan: start: nil host")
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
	t.disc, _ = h.(transport.Discoverer)
	fail := func(phase string, err error) ([]string, error) {
		t.event(transport.Event{State: transport.StateFailed, Phase: phase, Reason: err.Error(), Summary: err.Error()})
		return nil, err
	}
	all, err := listInterfaces()
	if err != nil {
		return fail("interfaces", fmt.Errorf("lan: interfaces: %w", err))
	}
	links := selectLinks(all, t.cfg.interfaces)
	if len(links) == 0 {
		return fail("no_interfaces", fmt.Errorf("%w: none up with an address (selected %v)", ErrNoInterfaces, t.patterns()))
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("", strconv.Itoa(t.cfg.listenPort)))
	if err != nil {
		return fail("listen", fmt.Errorf("lan: listen: %w", err))
	}
	port := ln.Addr().(*net.TCPAddr).Port
	addrs := advertise(links, port)
	if len(addrs) == 0 {
		ln.Close()
		return fail("no_interfaces", fmt.Errorf("%w: %v have only link-local addresses", ErrNoInterfaces, names(links)))
	}
	socks, err := t.openSockets(ctx, links)
	if err != nil {
		ln.Close()
		return fail("announce", err)
	}
	inner := direct.New(direct.WithLogger(t.log.Named("link")), direct.WithListener(ln))
	if err := inner.Configure(ctx, base.Config{Filename: "lan", Body: t.cfg.directBody(addrs)}); err != nil {
		ln.Close()
		closeSockets(socks)
		return fail("links", fmt.Errorf("lan: links: %w", err))
	}
	t.links, t.socks, t.inner = links, socks, inner
	// Sequence numbers start from the clock, so a restarted plugin announcing
	// the same record is not mistaken for a replay.
	t.seq = uint64(time.Now().UnixNano())
	t.filter = newFilter(t.cfg.rate, t.cfg.burst)
	t.done = make(chan struct{})
	// The direct transport reports to us; we pass its events on.
	out, err := inner.Start(ctx, linkHost{t})
	if err != nil {
		closeSockets(socks)
		return nil, fmt.Errorf("lan: links: %w", err)
	}
	t.started = true
	for _, s := range socks {
		t.wg.Add(1)
		go t.readLoop(s)
	}
	t.wg.Add(1)
	go t.announceLoop()
	t.log.Info("started", "interfaces", names(links), "addresses", out, "port", t.cfg.port)
	t.event(transport.Event{State: transport.StateReady, Progress: 100, Phase: "ready",
		Summary: fmt.Sprintf("announcing on %v, links at %v", names(links), out)})
	return out, nil
}

func (t *Transport) patterns() any {
	if len(t.cfg.interfaces) == 0 {
		return "every non-loopback multicast or broadcast interface"
	}
	return t.cfg.interfaces
}

// Send implements transport.Transport: packets go over links to lan
// addresses (host:port), dialed on demand.
func (t *Transport) Send(ctx context.Context, pkts []transport.Packet) error {
	if err := transport.CheckBatch(pkts, nil); err != nil {
		return fmt.Errorf("lan: send: %w", err)
	}
	t.mu.Lock()
	started, stopped, inner := t.started, t.stopped, t.inner
	t.mu.Unlock()
	switch {
	case stopped:
		return ErrStopped
	case !started:
		return ErrNotStarted
	}
	if err := inner.Send(ctx, pkts); err != nil {
		if errors.Is(err, direct.ErrStopped) {
			return ErrStopped
		}
		return fmt.Errorf("lan: %w", err)
	}
	return nil
}

// Dial implements transport.Dialer: a TCP connection to a lan address.
func (t *Transport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lan: dial: %w", err)
	}
	return c, nil
}

// Announce implements transport.Announcer: record (the host's signed peer
// record) is what this node announces from now on, at once and then every
// announce interval.
func (t *Transport) Announce(ctx context.Context, record []byte) error {
	r, err := node.DecodeRecord(record)
	if err != nil {
		return fmt.Errorf("lan: announce: %w", err)
	}
	if len(record) > node.MaxRecordSize {
		return fmt.Errorf("lan: announce: record is %d bytes", len(record))
	}
	t.mu.Lock()
	t.record, t.self = append([]byte(nil), record...), r.ID
	t.mu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
	return nil
}

// Stop implements transport.Transport: announcements stop first, then the
// links. Idempotent.
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
	socks, inner := t.socks, t.inner
	t.mu.Unlock()
	closeSockets(socks)
	t.wg.Wait()
	// The direct transport reports the stopped event before it returns.
	if err := inner.Stop(ctx); err != nil {
		return fmt.Errorf("lan: stop: %w", err)
	}
	t.log.Info("stopped")
	return nil
}

// event stamps and reports ev, one at a time; Peers is always the number
// of live links.
func (t *Transport) event(ev transport.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	t.eventsMu.Lock()
	defer t.eventsMu.Unlock()
	t.host.Event(ev)
}

// linkHost is the Host the embedded direct transport reports to.
type linkHost struct{ t *Transport }

func (h linkHost) Deliver(ctx context.Context, pkts []transport.Packet) error {
	return h.t.host.Deliver(ctx, pkts)
}

func (h linkHost) Event(ev transport.Event) {
	t := h.t
	if ev.Phase == "link_up" || ev.Phase == "link_down" {
		t.mu.Lock()
		t.nlinks = ev.Peers
		f := t.filter
		t.mu.Unlock()
		if f != nil {
			ev.Summary = fmt.Sprintf("%s; %d peers seen", ev.Summary, f.seen())
		}
	}
	t.event(ev)
}
