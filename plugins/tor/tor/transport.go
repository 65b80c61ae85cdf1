package tor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cretz/bine/control"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/net/proxy"

	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Version is this plugin's release.
const Version = "0.1.0"

// KeyFile is the onion service key's file name inside tor's data
// directory; it keeps the onion address stable across restarts.
const KeyFile = "onemfive_onion_v3.key"

// Errors returned by Transport.
var (
	ErrStopped    = errors.New("tor: transport stopped")
	ErrNotStarted = errors.New("tor: transport not started")
	ErrStarted    = errors.New("tor: transport already started")
)

// Transport is the Tor transport. Create it with New. Its methods are
// safe for concurrent use.
type Transport struct {
	log    hclog.Logger
	cfg    settings
	torLog *lineLogger

	sent, received, dropped atomic.Uint64

	mu        sync.Mutex
	started   bool
	stopped   bool
	host      transport.Host
	ln        net.Listener
	self      string
	serviceID string
	key       control.Key
	in        *instance
	peers     map[string]*peer
	conns     map[net.Conn]struct{}
	restarts  int
	forgotAt  time.Time // last NEWNYM (peer.go)
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	monMu   sync.Mutex
	mon     *monitor
	readyCh chan struct{}
	readyOK bool

	eventsMu  sync.Mutex
	evStopped bool
}

var (
	_ transport.Transport = (*Transport)(nil)
	_ transport.Dialer    = (*Transport)(nil)
)

// Option adjusts a Transport made by New.
type Option func(*Transport)

// WithLogger sets the logger; the default is sdk.NewLogger("tor").
func WithLogger(l hclog.Logger) Option { return func(t *Transport) { t.log = l } }

// New returns an unstarted transport with default settings.
func New(opts ...Option) *Transport {
	t := &Transport{cfg: defaultSettings()}
	for _, o := range opts {
		o(t)
	}
	if t.log == nil {
		t.log = sdk.NewLogger("tor")
	}
	t.torLog = &lineLogger{log: t.log.Named("tord")}
	return t
}

// Info implements base.Plugin.
func (t *Transport) Info(ctx context.Context) (base.Info, error) {
	return base.Info{Name: "tor", Kind: base.KindTransport, Version: Version, APIVersions: []int{1},
		Capabilities: []string{"dial"}}, nil
}

// Configure implements base.Plugin. It must come before Start.
func (t *Transport) Configure(ctx context.Context, cfg base.Config) error {
	s, err := parseConfig(cfg)
	if err != nil {
		return fmt.Errorf("tor: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started || t.stopped {
		return errors.New("tor: configure: transport already started")
	}
	t.cfg = s
	return nil
}

// Start implements transport.Transport: it starts (or attaches to) tor,
// publishes this node's onion service and returns its address. It waits
// for bootstrap and publication up to start_wait, then returns the
// address anyway: the address is fixed by the key, and progress and
// blocked signals keep flowing as events.
func (t *Transport) Start(ctx context.Context, h transport.Host) (addrs []string, err error) {
	if h == nil {
		return nil, errors.New("tor: start: nil host")
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
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.mon = newMonitor(time.Now(), t.cfg.bootstrapDeadline, t.cfg.maxFailures)
	t.readyCh = make(chan struct{})
	t.mu.Unlock()
	defer func() {
		if err != nil {
			t.event(transport.Event{State: transport.StateFailed, Phase: "start", Reason: err.Error()})
			t.Stop(context.Background())
		}
	}()

	t.event(transport.Event{State: transport.StateStarting, Phase: "starting", Summary: "starting tor"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tor: listen: %w", err)
	}
	t.mu.Lock()
	t.ln = ln
	t.mu.Unlock()
	t.wg.Add(1)
	go t.acceptLoop(ln)

	in, err := t.startInstance(ctx, t.ctx)
	if err != nil {
		return nil, err
	}
	if err := t.publish(in); err != nil {
		in.close()
		return nil, err
	}
	t.run(in)
	t.log.Info("onion service added", "address", t.self, "tor_pid", in.pid())

	wait := time.NewTimer(t.cfg.startWait)
	defer wait.Stop()
	select {
	case <-t.readyCh:
	case <-wait.C:
		t.log.Warn("tor not ready yet; returning the address and continuing in the background", "waited", t.cfg.startWait)
	case <-ctx.Done():
		return nil, fmt.Errorf("tor: start: waiting for bootstrap: %w", ctx.Err())
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return []string{t.self}, nil
}

// publish adds the onion service to in with the persisted key (creating
// and saving one the first time) and records the address.
func (t *Transport) publish(in *instance) error {
	keyPath := filepath.Join(t.cfg.dataDir, KeyFile)
	t.mu.Lock()
	key := t.key
	t.mu.Unlock()
	if key == nil {
		var err error
		if key, err = loadKey(keyPath); err != nil {
			return err
		}
	}
	id, used, err := in.addOnion(key, t.cfg.port, t.ln.Addr().String())
	if err != nil {
		return err
	}
	if key == nil || key.Type() == control.KeyTypeNew {
		if err := saveKey(keyPath, used); err != nil {
			return err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.self != "" && t.serviceID != id {
		return fmt.Errorf("tor: onion address changed from %s to %s", t.serviceID, id)
	}
	t.key, t.serviceID = used, id
	t.self = fmt.Sprintf("%s.onion:%d", id, t.cfg.port)
	t.in = in
	return nil
}

// run starts the goroutines that follow one tor instance: its events and,
// for a managed tor, its exit.
func (t *Transport) run(in *instance) {
	t.wg.Add(1)
	go t.eventLoop(in)
	if in.exited != nil {
		t.wg.Add(1)
		go t.supervise(in)
	}
}

// eventLoop feeds tor's events (and a once-a-second tick for the stuck
// deadline) to the monitor and reports what it returns.
func (t *Transport) eventLoop(in *instance) {
	defer t.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var evs []transport.Event
		select {
		case <-t.ctx.Done():
			return
		case <-in.exited:
			return
		case now := <-tick.C:
			t.monMu.Lock()
			evs = t.mon.tick(now)
			t.monMu.Unlock()
		case e := <-in.evCh:
			evs = t.handle(e)
		}
		for _, ev := range evs {
			t.event(ev)
		}
	}
}

// handle turns one tor event into transport events.
func (t *Transport) handle(e control.Event) []transport.Event {
	now := time.Now()
	t.mu.Lock()
	id := t.serviceID
	t.mu.Unlock()
	t.monMu.Lock()
	defer t.monMu.Unlock()
	var evs []transport.Event
	switch e := e.(type) {
	case *control.StatusEvent:
		s, err := parseStatus(e.Raw)
		if err != nil {
			t.log.Debug("unparsed status event", "raw", e.Raw, "error", err)
			return nil
		}
		evs = t.mon.status(now, string(e.Type), s)
	case *control.HSDescEvent:
		switch {
		case e.Address != id:
		case e.Action == "UPLOADED":
			evs = t.mon.uploaded(now, e.HSDir)
		case e.Action == "FAILED":
			t.log.Debug("descriptor upload failed", "hsdir", e.HSDir, "reason", e.Reason)
		}
	case *control.CircuitEvent:
		switch e.Status {
		case "FAILED":
			evs = t.mon.circuitFailed(now, e.Reason)
		case "BUILT":
			t.mon.circuitBuilt(now)
		}
	}
	if t.mon.ready() && !t.readyOK {
		t.readyOK = true
		close(t.readyCh)
	}
	return evs
}

// supervise waits for a managed tor to exit and, unless stopping,
// restarts it with the same data directory and onion key.
func (t *Transport) supervise(in *instance) {
	defer t.wg.Done()
	select {
	case <-t.ctx.Done():
		return
	case <-in.exited:
	}
	reason := "tor exited"
	switch {
	case in.cmd != nil && in.cmd.ProcessState != nil:
		reason = "tor exited: " + in.cmd.ProcessState.String()
	case in.cmd == nil:
		reason = fmt.Sprintf("control connection to %s lost: %v", t.cfg.controlAddr, in.lost)
	}
	in.close()
	if !t.cfg.restart {
		t.event(transport.Event{State: transport.StateFailed, Phase: "tor_exited", Reason: reason, Summary: reason})
		return
	}
	t.log.Warn("tor gone; restarting or reattaching", "reason", reason, "pid", in.pid())
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		t.monMu.Lock()
		t.mon.restart(time.Now())
		t.mon.state = transport.StateStarting
		t.monMu.Unlock()
		t.event(transport.Event{State: transport.StateStarting, Phase: "tor_restart",
			Summary: fmt.Sprintf("%s; restarting it (attempt %d)", reason, attempt), Reason: reason})
		ctx, cancel := context.WithTimeout(t.ctx, 30*time.Second)
		next, err := t.startInstance(ctx, t.ctx)
		cancel()
		if err == nil {
			if err = t.publish(next); err != nil {
				next.close()
			}
		}
		if err == nil {
			t.mu.Lock()
			t.restarts++
			stopping := t.stopped
			t.mu.Unlock()
			if stopping {
				next.close()
				return
			}
			t.log.Info("tor restarted", "pid", next.pid(), "address", t.Addr())
			t.run(next)
			return
		}
		t.log.Error("tor restart failed", "error", err, "attempt", attempt)
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// Addr is this node's onion address ("<id>.onion:<port>"), empty before
// Start.
func (t *Transport) Addr() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.self
}

// TorPID is the managed tor's process id (0 when attached or stopped).
func (t *Transport) TorPID() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.in.pid()
}

// Stats are running totals since New.
type Stats struct {
	Sent, Received, Dropped uint64
	Restarts                int // tor restarts after an unexpected exit
}

// Stats reports running totals.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	r := t.restarts
	t.mu.Unlock()
	return Stats{Sent: t.sent.Load(), Received: t.received.Load(), Dropped: t.dropped.Load(), Restarts: r}
}

// Stop implements transport.Transport: it closes every stream, removes
// the onion service, stops a managed tor (an attached one keeps running),
// waits for its goroutines and reports stopped. Idempotent.
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
	ln, in := t.ln, t.in
	conns := make([]net.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	if in != nil {
		in.close()
	}
	t.wg.Wait()
	t.log.Info("stopped")
	t.event(transport.Event{State: transport.StateStopped, Phase: "stopped", Summary: "stopped"})
	t.eventsMu.Lock()
	t.evStopped = true
	t.eventsMu.Unlock()
	return nil
}

// Dial implements transport.Dialer: a stream through tor's SOCKS port to
// addr (host:port; .onion names are resolved by tor).
func (t *Transport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	t.mu.Lock()
	in, stopped := t.in, t.stopped
	t.mu.Unlock()
	switch {
	case stopped:
		return nil, ErrStopped
	case in == nil:
		return nil, ErrNotStarted
	}
	d, err := proxy.SOCKS5("tcp", in.socks, nil, &net.Dialer{})
	if err != nil {
		return nil, fmt.Errorf("tor: dial: %w", err)
	}
	cd, ok := d.(proxy.ContextDialer)
	if !ok {
		return nil, errors.New("tor: dial: SOCKS dialer cannot take a context")
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.dialTimeout)
	defer cancel()
	c, err := cd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tor: dial %s: %w", addr, err)
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
