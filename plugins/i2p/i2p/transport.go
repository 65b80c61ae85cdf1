package i2p

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// sessionLoop keeps one SAM STREAM session alive: it creates it (with
// backoff on failure), accepts streams on it until it is lost (i2pd gone,
// the bridge dropped it), then creates a new one with the same keys.
func (t *Transport) sessionLoop() {
	defer t.wg.Done()
	backoff := time.Second
	for t.ctx.Err() == nil {
		t.mu.Lock()
		samAddr, keys := t.samAddr, t.keys
		t.mu.Unlock()
		var idb [6]byte
		rand.Read(idb[:])
		id := "onemfive-" + hex.EncodeToString(idb[:])
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionCreating(now) })
		ctx, cancel := context.WithTimeout(t.ctx, t.cfg.sessionTimeout)
		t0 := time.Now()
		ss, err := createSession(ctx, samAddr, id, keys, t.cfg.sessionOptions())
		cancel()
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			t.log.Warn("SAM session create failed", "error", err, "retry_in", backoff)
			t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionFailed(now, err) })
			select {
			case <-t.ctx.Done():
				return
			case <-t.kick:
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		took := time.Since(t0)
		t.mu.Lock()
		t.sess, t.sessID, t.lastCreate = ss, id, took
		t.mu.Unlock()
		t.log.Info("SAM session created", "id", id, "took", took.Round(time.Millisecond))
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionReady(now) })
		why := t.acceptLoop(samAddr, id)
		if t.ctx.Err() != nil {
			return // Stop closes the session, after every stream
		}
		t.mu.Lock()
		if t.sess == ss {
			t.sess, t.sessID = nil, ""
		}
		t.mu.Unlock()
		t.closeSession(ss)
		t.log.Warn("SAM session lost; creating a new one", "reason", why)
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionLost(now, why.Error()) })
	}
}

// acceptLoop takes incoming streams until accepting fails, which means the
// session is gone; it returns why.
func (t *Transport) acceptLoop(samAddr, id string) error {
	for {
		c, from, err := streamAccept(t.ctx, samAddr, id)
		if err != nil {
			return err
		}
		if !t.track(c) {
			return ErrStopped
		}
		t.replaced(from, c)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrack(c)
			defer func() {
				t.mu.Lock()
				if t.inbound[from] == c {
					delete(t.inbound, from)
				}
				t.mu.Unlock()
			}()
			if err := t.readLoop(c, from); t.ctx.Err() == nil {
				t.log.Debug("inbound stream ended", "from", from, "error", err)
			}
		}()
	}
}

// replaced notes c as the stream from peer from. A new stream while an
// older one from the same peer is still open means the peer lost its end
// (it restarted, or its stream broke): the old one is closed, and so is
// this node's stream to that peer, which most likely runs into the same
// dead tunnels; its writer opens a new one, which uses the lease set the
// peer has just sent with its new stream.
func (t *Transport) replaced(from string, c net.Conn) {
	t.mu.Lock()
	old := t.inbound[from]
	t.inbound[from] = c
	pr := t.peers[from]
	t.mu.Unlock()
	if old == nil {
		return
	}
	old.Close()
	if pr != nil {
		t.log.Debug("peer opened a new stream; reopening ours to it", "peer", from)
		pr.reset()
	}
}

// pollLoop asks the SAM bridge (HELLO) and, when there is one, I2PControl
// every poll_interval, and feeds the monitor.
func (t *Transport) pollLoop() {
	defer t.wg.Done()
	tick := time.NewTicker(t.cfg.pollInterval)
	defer tick.Stop()
	var lastKick time.Time
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		t.mu.Lock()
		samAddr, ctl := t.samAddr, t.control
		t.mu.Unlock()
		ctx, cancel := context.WithTimeout(t.ctx, t.cfg.samTimeout)
		samErr := probeSAM(ctx, samAddr)
		cancel()
		if t.ctx.Err() != nil {
			return
		}
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sam(now, samErr) })
		if ctl != nil && samErr == nil {
			ctx, cancel := context.WithTimeout(t.ctx, t.cfg.samTimeout)
			st, err := ctl.Stats(ctx)
			cancel()
			if err == nil {
				t.observe(func(m *monitor, now time.Time) []transport.Event { return m.routerStats(now, st) })
			} else if t.ctx.Err() == nil {
				t.log.Debug("i2pcontrol poll failed", "error", err)
			}
		}
		var alone time.Duration
		t.observe(func(m *monitor, now time.Time) []transport.Event {
			alone = m.isolated(now)
			return m.tick(now)
		})
		t.restartIfIsolated(alone, &lastKick)
	}
}

// restartIfIsolated restarts the managed i2pd when no router has been
// connected for twice peer_deadline (and not more often than that). i2pd
// marks routers it failed to reach unreachable for eight minutes and
// will not try them again meanwhile, so a node whose peers all went away
// would stay alone for that long after they came back; a new i2pd
// forgets those marks and reseeds.
func (t *Transport) restartIfIsolated(alone time.Duration, last *time.Time) {
	t.mu.Lock()
	r := t.router
	t.mu.Unlock()
	every := 2 * t.cfg.peerDeadline
	if r == nil || !t.cfg.restart || alone < every || time.Since(*last) < every {
		return
	}
	*last = time.Now()
	why := fmt.Sprintf("no router connected for %v: restarting i2pd so it tries the routers it marked unreachable again", alone.Round(time.Second))
	t.log.Warn(why)
	r.why.Store(why)
	r.stop()
}

// supervise waits for the managed i2pd to exit and, unless stopping,
// restarts it with the same data directory: the same router identity and,
// through the keys file, the same destination.
func (t *Transport) supervise(r *router) {
	defer t.wg.Done()
	select {
	case <-t.ctx.Done():
		return
	case <-r.exited:
	}
	reason := "i2pd exited: " + r.cmd.ProcessState.String()
	if why, ok := r.why.Load().(string); ok {
		reason = why
	}
	if !t.cfg.restart {
		t.event(transport.Event{State: transport.StateFailed, Phase: "i2pd_exited", Reason: reason, Summary: reason})
		return
	}
	t.log.Warn("i2pd gone; restarting it", "reason", reason, "pid", r.pid())
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		note := fmt.Sprintf("%s; restarting it (attempt %d)", reason, attempt)
		t.observe(func(m *monitor, now time.Time) []transport.Event {
			m.restart(now, note)
			return m.eval(now)
		})
		ctx, cancel := context.WithTimeout(t.ctx, 30*time.Second)
		next, err := t.startRouter(ctx)
		cancel()
		if err == nil {
			t.mu.Lock()
			stopping := t.stopped
			if !stopping {
				t.router, t.samAddr, t.control = next, next.samAddr, next.control
				t.restarts++
			}
			t.mu.Unlock()
			if stopping {
				next.stop()
				return
			}
			t.log.Info("i2pd restarted", "pid", next.pid(), "sam", next.samAddr)
			select {
			case t.kick <- struct{}{}:
			default:
			}
			t.wg.Add(1)
			go t.supervise(next)
			return
		}
		t.log.Error("i2pd restart failed", "error", err, "attempt", attempt)
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
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

// closeConns closes every stream socket.
func (t *Transport) closeConns() {
	t.mu.Lock()
	conns := make([]net.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// sessionCloseGrace is how long closeSession lets i2pd finish closing
// the session's streams before closing the session.
const sessionCloseGrace = 300 * time.Millisecond

// closeSession closes ss after its stream sockets. i2pd 2.56 crashes
// (use after free in its SAM thread) when a stream socket outlives its
// session and is then written to or closed, so every stream socket is
// closed first (the callers have stopped opening new ones) and i2pd gets
// a moment to process those closes before the session goes.
func (t *Transport) closeSession(ss *sam3.StreamSession) {
	t.closeConns()
	time.Sleep(sessionCloseGrace)
	ss.Close()
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
