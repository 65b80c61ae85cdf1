package i2p

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eyedeekay/i2pkeys"
	"github.com/eyedeekay/sam3"
	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Version is this plugin's release.
const Version = "0.1.0"

// Errors returned by Transport.
var (
	ErrStopped    = errors.New("i2p: transport stopped")
	ErrNotStarted = errors.New("i2p: transport not started")
	ErrStarted    = errors.New("i2p: transport already started")
	ErrNoSession  = errors.New("i2p: no SAM session yet")
)

// Transport is the I2P transport. Create it with New. Its methods are
// safe for concurrent use.
type Transport struct {
	log       hclog.Logger
	cfg       settings
	routerLog *lineLogger

	sent, received, dropped atomic.Uint64

	mu       sync.Mutex
	started  bool
	stopped  bool
	host     transport.Host
	keys     i2pkeys.I2PKeys
	self     string
	samAddr  string
	control  *i2pd.Control
	router   *router
	sess     *sam3.StreamSession
	sessID   string
	peers    map[string]*peer
	conns    map[net.Conn]struct{}
	inbound  map[string]net.Conn // the latest stream accepted from each peer
	restarts int
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	// kick wakes the session loop early (a new router is up).
	kick chan struct{}

	monMu   sync.Mutex
	mon     *monitor
	readyCh chan struct{}
	readyOK bool
	// SessionCreate is how long the last SESSION CREATE took.
	lastCreate time.Duration

	eventsMu  sync.Mutex
	evStopped bool
}

var (
	_ transport.Transport = (*Transport)(nil)
	_ transport.Dialer    = (*Transport)(nil)
)

// Option adjusts a Transport made by New.
type Option func(*Transport)

// WithLogger sets the logger; the default is sdk.NewLogger("i2p").
func WithLogger(l hclog.Logger) Option { return func(t *Transport) { t.log = l } }

// New returns an unstarted transport with default settings.
func New(opts ...Option) *Transport {
	t := &Transport{cfg: defaultSettings()}
	for _, o := range opts {
		o(t)
	}
	if t.log == nil {
		t.log = sdk.NewLogger("i2p")
	}
	t.routerLog = &lineLogger{log: t.log.Named("i2pd"), onLine: t.routerLine}
	return t
}

// Info implements base.Plugin.
func (t *Transport) Info(ctx context.Context) (base.Info, error) {
	return base.Info{Name: "i2p", Kind: base.KindTransport, Version: Version, APIVersions: []int{1},
		Capabilities: []string{"dial"}}, nil
}

// Configure implements base.Plugin. It must come before Start.
func (t *Transport) Configure(ctx context.Context, cfg base.Config) error {
	s, err := parseConfig(cfg)
	if err != nil {
		return fmt.Errorf("i2p: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started || t.stopped {
		return errors.New("i2p: configure: transport already started")
	}
	t.cfg = s
	return nil
}

// Start implements transport.Transport: it starts i2pd (or checks the
// configured SAM bridge), loads or makes this node's destination keys and
// returns its .b32.i2p address. It waits up to start_wait for the SAM
// session (tunnels built, lease set published), then returns the address
// anyway: the address is fixed by the keys, and progress and blocked
// signals keep flowing as events. A SAM bridge that does not answer
// within sam_timeout fails Start.
func (t *Transport) Start(ctx context.Context, h transport.Host) (addrs []string, err error) {
	if h == nil {
		return nil, errors.New("i2p: start: nil host")
	}
	t.mu.Lock()
	switch {
	case t.stopped:
		t.mu.Unlock()
		return nil, ErrStopped
	case t.started:
		t.mu.Unlock()
		return nil, ErrStarted
	}
	t.started = true
	t.host = h
	t.peers = make(map[string]*peer)
	t.conns = make(map[net.Conn]struct{})
	t.inbound = make(map[string]net.Conn)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.kick = make(chan struct{}, 1)
	t.mon = newMonitor(time.Now(), t.cfg.peerDeadline, t.cfg.minTunnelRate)
	t.readyCh = make(chan struct{})
	t.mu.Unlock()
	defer func() {
		if err != nil {
			t.event(transport.Event{State: transport.StateFailed, Phase: "start", Reason: err.Error(), Summary: err.Error()})
			t.Stop(context.Background())
		}
	}()
	t.observe(func(m *monitor, now time.Time) []transport.Event { return m.tick(now) })

	if t.cfg.managed() {
		r, err := t.startRouter(ctx)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.router, t.samAddr, t.control = r, r.samAddr, r.control
		t.mu.Unlock()
		t.wg.Add(1)
		go t.supervise(r)
	} else {
		t.mu.Lock()
		t.samAddr = t.cfg.samAddr
		if t.cfg.controlAddr != "" {
			t.control = &i2pd.Control{Addr: t.cfg.controlAddr, Password: t.cfg.ctlPwd}
		}
		t.mu.Unlock()
	}
	sctx, cancel := context.WithTimeout(ctx, t.cfg.samTimeout)
	defer cancel()
	keys, err := ensureKeys(sctx, t.samAddrNow(), filepath.Join(t.cfg.dataDir, KeysFile))
	if err != nil {
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sam(now, err) })
		return nil, fmt.Errorf("i2p: %w", err)
	}
	self, err := destB32(string(keys.Address))
	if err != nil {
		return nil, fmt.Errorf("i2p: keys: %w", err)
	}
	t.mu.Lock()
	t.keys, t.self = keys, self
	t.mu.Unlock()
	t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sam(now, nil) })
	t.log.Info("destination", "address", self)

	t.wg.Add(2)
	go t.sessionLoop()
	go t.pollLoop()

	wait := time.NewTimer(t.cfg.startWait)
	defer wait.Stop()
	select {
	case <-t.readyCh:
	case <-wait.C:
		t.log.Warn("SAM session not ready yet; returning the address and continuing in the background", "waited", t.cfg.startWait)
	case <-ctx.Done():
		return nil, fmt.Errorf("i2p: start: waiting for the session: %w", ctx.Err())
	}
	return []string{self}, nil
}

func (t *Transport) samAddrNow() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.samAddr
}

// observe feeds the monitor and reports what it returns; it also opens
// readyCh the first time the monitor is ready.
func (t *Transport) observe(f func(m *monitor, now time.Time) []transport.Event) {
	t.monMu.Lock()
	evs := f(t.mon, time.Now())
	if t.mon.ready() && !t.readyOK {
		t.readyOK = true
		close(t.readyCh)
	}
	t.monMu.Unlock()
	for _, ev := range evs {
		t.event(ev)
	}
}

// routerLine watches the managed i2pd's log for reseed failures.
func (t *Transport) routerLine(line string) {
	t.mu.Lock()
	started := t.started && t.mon != nil
	t.mu.Unlock()
	if started {
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.logLine(now, line) })
	}
}

// Addr is this node's .b32.i2p address, empty before Start.
func (t *Transport) Addr() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.self
}

// RouterPID is the managed i2pd's process id (0 when attached or stopped).
func (t *Transport) RouterPID() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.router.pid()
}

// SAMAddr is the SAM bridge in use.
func (t *Transport) SAMAddr() string { return t.samAddrNow() }

// Stats are running totals since New.
type Stats struct {
	Sent, Received, Dropped uint64
	Restarts                int           // i2pd restarts after an unexpected exit
	SessionCreate           time.Duration // how long the last SESSION CREATE took
}

// Stats reports running totals.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	r, sc := t.restarts, t.lastCreate
	t.mu.Unlock()
	return Stats{Sent: t.sent.Load(), Received: t.received.Load(), Dropped: t.dropped.Load(), Restarts: r, SessionCreate: sc}
}

// Stop implements transport.Transport: it closes every stream and the
// session, stops a managed i2pd (an attached router keeps running), waits
// for its goroutines and reports stopped. Idempotent.
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
	t.cancel()
	r := t.router
	t.mu.Unlock()
	t.closeConns()
	t.wg.Wait()
	t.mu.Lock()
	sess := t.sess
	t.sess, t.sessID = nil, ""
	t.mu.Unlock()
	if sess != nil {
		t.closeSession(sess)
	}
	r.stop()
	t.log.Info("stopped")
	t.event(transport.Event{State: transport.StateStopped, Phase: "stopped", Summary: "stopped"})
	t.eventsMu.Lock()
	t.evStopped = true
	t.eventsMu.Unlock()
	return nil
}

// Dial implements transport.Dialer: a stream from this node's destination
// to addr ("name.i2p", "<52>.b32.i2p" or a base64 destination, with or
// without ":port"; I2P ports are not used). Bounded by ctx and
// dial_timeout.
func (t *Transport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	t.mu.Lock()
	samAddr, id, started, stopped := t.samAddr, t.sessID, t.started, t.stopped
	t.mu.Unlock()
	switch {
	case stopped:
		return nil, ErrStopped
	case !started:
		return nil, ErrNotStarted
	case id == "":
		return nil, ErrNoSession
	}
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if host == "" || strings.ContainsAny(host, " \n\r") {
		return nil, fmt.Errorf("i2p: dial %q: bad address", addr)
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.dialTimeout)
	defer cancel()
	c, err := streamConnect(ctx, samAddr, id, host)
	if err != nil {
		return nil, fmt.Errorf("i2p: dial %s: %w", addr, err)
	}
	return c, nil
}

// event stamps and reports ev to the host, one at a time, never after
// Stop has returned.
func (t *Transport) event(ev transport.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	t.eventsMu.Lock()
	defer t.eventsMu.Unlock()
	if t.evStopped || t.host == nil {
		return
	}
	t.host.Event(ev)
}
