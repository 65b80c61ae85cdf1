package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/onemfive/onemfive/registry"
	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// State is a plugin's lifecycle state.
type State string

// Plugin states.
const (
	StateStarting State = "starting"
	StateReady    State = "ready"
	StateBlocked  State = "blocked" // running, but its network reports blocking
	StateGone     State = "gone"    // crashed or unreachable; restart pending
	StateRefused  State = "refused" // checksum mismatch: not started until reinstalled
	StateSkipped  State = "skipped" // no common API version
	StateMissing  State = "missing" // configured but not installed
	StateStopped  State = "stopped"
)

// Status is a snapshot of one plugin.
type Status struct {
	Name       string
	Kind       base.Kind
	Version    string
	State      State
	APIVersion int
	PID        int
	Restarts   int
	Addresses  []string
	LastEvent  *transport.Event
	Err        error
}

// errPermanent marks launch failures that retrying cannot fix.
var errPermanent = errors.New("permanent")

type managed struct {
	sup       *Supervisor
	spec      Spec
	manifest  registry.Manifest
	firstDone chan struct{}

	mu        sync.Mutex
	state     State
	err       error
	client    *plugin.Client
	tr        sdk.TransportClient
	svc       service.Service
	info      base.Info
	api       int
	pid       int
	restarts  int
	addrs     []string
	lastEvent *transport.Event
	pokeCh    chan struct{}
}

func (m *managed) setState(st State, err error) {
	m.mu.Lock()
	changed := m.state != st || (err != nil && (m.err == nil || m.err.Error() != err.Error()))
	m.state, m.err = st, err
	m.mu.Unlock()
	if changed && m.sup.cb.State != nil {
		m.sup.cb.State(m.spec.Name, st, err)
	}
}

func (m *managed) transport() sdk.TransportClient {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != StateReady && m.state != StateBlocked {
		return nil
	}
	return m.tr
}

func (m *managed) service() service.Service {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != StateReady {
		return nil
	}
	return m.svc
}

func (m *managed) ready() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state == StateReady && m.tr != nil
}

func (m *managed) poke() {
	m.mu.Lock()
	ch := m.pokeCh
	m.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (m *managed) status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Status{Name: m.spec.Name, Kind: m.manifest.Kind, Version: m.info.Version, State: m.state, APIVersion: m.api,
		PID: m.pid, Restarts: m.restarts, Addresses: append([]string(nil), m.addrs...), Err: m.err}
	if m.lastEvent != nil {
		ev := *m.lastEvent
		st.LastEvent = &ev
	}
	return st
}

// run launches the plugin and relaunches it after crashes until ctx is done.
func (m *managed) run(ctx context.Context, firstDone func()) {
	log := m.sup.log.With("plugin", m.spec.Name)
	backoff := m.sup.opt.MinBackoff
	first := true
	for ctx.Err() == nil {
		started := time.Now()
		err := m.launch(ctx)
		if first {
			first = false
			firstDone()
		}
		if err != nil {
			m.kill()
			if errors.Is(err, errPermanent) {
				log.Error("plugin not started", "error", err)
				return
			}
			m.setState(StateGone, err)
			log.Warn("plugin launch failed; retrying", "error", err, "in", backoff)
		} else {
			m.watch(ctx)
			m.kill()
			if ctx.Err() != nil {
				return
			}
			m.setState(StateGone, fmt.Errorf("supervisor: plugin %s: %w", m.spec.Name, ErrPluginGone))
			log.Warn("plugin gone; restarting", "in", backoff)
			if time.Since(started) > time.Minute {
				backoff = m.sup.opt.MinBackoff
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, m.sup.opt.MaxBackoff)
		m.mu.Lock()
		m.restarts++
		m.mu.Unlock()
	}
}

func (m *managed) launch(ctx context.Context) error {
	name := m.spec.Name
	m.setState(StateStarting, nil)
	client, err := m.sup.newClient(m)
	if err != nil {
		if errors.Is(err, registry.ErrChecksumMismatch) {
			m.setState(StateRefused, err)
			return fmt.Errorf("%w: %w", errPermanent, err)
		}
		return err
	}
	m.mu.Lock()
	m.client = client
	m.mu.Unlock()
	rpc, err := client.Client()
	if err != nil {
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			err = fmt.Errorf("supervisor: plugin %s: %w: %w", name, registry.ErrChecksumMismatch, err)
			m.setState(StateRefused, err)
			return fmt.Errorf("%w: %w", errPermanent, err)
		}
		return fmt.Errorf("supervisor: plugin %s: start: %w", name, err)
	}
	if rc := client.ReattachConfig(); rc != nil {
		m.mu.Lock()
		m.pid = rc.Pid
		m.mu.Unlock()
	}
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	bp, err := sdk.DispenseBase(rpc)
	if err != nil {
		return fmt.Errorf("supervisor: plugin %s: dispense base: %w", name, err)
	}
	info, err := bp.Info(callCtx)
	if err != nil {
		return fmt.Errorf("supervisor: plugin %s: info: %w", name, err)
	}
	if info.Name != name || info.Kind != m.manifest.Kind {
		err := fmt.Errorf("supervisor: plugin %s: binary says it is %s %q: the manifest and the binary disagree", name, info.Kind, info.Name)
		m.setState(StateRefused, err)
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	api, err := registry.Negotiate(HostAPIVersions, info.APIVersions)
	if err != nil {
		err = fmt.Errorf("supervisor: plugin %s skipped: %w", name, err)
		m.setState(StateSkipped, err)
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	m.mu.Lock()
	m.info, m.api = info, api
	m.mu.Unlock()
	block := m.spec.Block
	block.DataDir = filepath.Join(m.sup.opt.DataDir, "plugins", name)
	if err := os.MkdirAll(block.DataDir, 0o700); err != nil {
		return fmt.Errorf("supervisor: plugin %s: data dir: %w", name, err)
	}
	if err := bp.Configure(callCtx, block); err != nil {
		err = fmt.Errorf("supervisor: plugin %s: configure: %w", name, err)
		if !errors.Is(err, ErrPluginGone) {
			m.setState(StateRefused, err)
			return fmt.Errorf("%w: %w", errPermanent, err)
		}
		return err
	}
	switch info.Kind {
	case base.KindTransport:
		tr, err := sdk.DispenseTransport(rpc)
		if err != nil {
			return fmt.Errorf("supervisor: plugin %s: dispense transport: %w", name, err)
		}
		var th transport.Host = &transportHost{m: m}
		if m.sup.cb.Discovered != nil {
			th = &discoveringHost{transportHost{m: m}}
		}
		addrs, err := tr.Start(ctx, th)
		if err != nil {
			return fmt.Errorf("supervisor: plugin %s: start: %w", name, err)
		}
		m.mu.Lock()
		m.tr, m.addrs = tr, addrs
		blocked := m.lastEvent != nil && m.lastEvent.State == transport.StateBlocked
		m.mu.Unlock()
		if blocked {
			m.setState(StateBlocked, nil)
		} else {
			m.setState(StateReady, nil)
		}
	case base.KindService:
		svc, err := sdk.DispenseService(rpc)
		if err != nil {
			return fmt.Errorf("supervisor: plugin %s: dispense service: %w", name, err)
		}
		if err := svc.Start(ctx, &serviceHost{m: m}); err != nil {
			return fmt.Errorf("supervisor: plugin %s: start: %w", name, err)
		}
		m.mu.Lock()
		m.svc = svc
		m.mu.Unlock()
		m.setState(StateReady, nil)
	default:
		err := fmt.Errorf("supervisor: plugin %s: unknown kind %q", name, info.Kind)
		m.setState(StateRefused, err)
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	m.sup.log.Info("plugin ready", "plugin", name, "version", info.Version, "api", api, "pid", m.status().PID)
	return nil
}

// watch returns when the plugin process has exited or stopped answering.
func (m *managed) watch(ctx context.Context) {
	poke := make(chan struct{}, 1)
	m.mu.Lock()
	m.pokeCh = poke
	client := m.client
	m.mu.Unlock()
	t := time.NewTicker(m.sup.opt.HealthEvery)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-poke:
		}
		if client.Exited() {
			return
		}
		rpc, err := client.Client()
		if err == nil {
			err = rpc.Ping()
		}
		if err != nil {
			misses++
			if misses >= 2 {
				m.sup.log.Warn("plugin not answering health checks", "plugin", m.spec.Name, "error", err)
				return
			}
			continue
		}
		misses = 0
	}
}

func (m *managed) kill() {
	m.mu.Lock()
	client := m.client
	m.client, m.tr, m.svc, m.pid = nil, nil, nil, 0
	m.pokeCh = nil
	m.mu.Unlock()
	if client != nil {
		client.Kill()
	}
}

func (m *managed) shutdown(ctx context.Context) {
	m.mu.Lock()
	var stopper interface{ Stop(context.Context) error }
	if m.tr != nil {
		stopper = m.tr
	} else if m.svc != nil {
		stopper = m.svc
	}
	m.mu.Unlock()
	if stopper != nil {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		if err := stopper.Stop(sctx); err != nil && !errors.Is(err, ErrPluginGone) {
			m.sup.log.Warn("plugin stop", "plugin", m.spec.Name, "error", err)
		}
		cancel()
	}
	m.kill()
	m.mu.Lock()
	st := m.state
	m.mu.Unlock()
	if st == StateReady || st == StateBlocked || st == StateStarting || st == StateGone {
		m.setState(StateStopped, nil)
	}
}

// serviceHost is what a running service plugin calls back into.
type serviceHost struct{ m *managed }

func (h *serviceHost) Send(ctx context.Context, env *envelope.Envelope) error {
	if h.m.sup.cb.ServiceSend == nil {
		return errors.New("supervisor: this host does not accept envelopes from services")
	}
	return h.m.sup.cb.ServiceSend(ctx, h.m.spec.Name, env)
}

// transportHost is what a running transport plugin calls back into.
type transportHost struct{ m *managed }

func (h *transportHost) Deliver(ctx context.Context, pkts []transport.Packet) error {
	if h.m.sup.cb.Packets == nil {
		return nil
	}
	return h.m.sup.cb.Packets(ctx, h.m.spec.Name, pkts)
}

// discoveringHost is a transportHost that also takes discovered peers, given
// to transports when the host has a Discovered callback.
type discoveringHost struct{ transportHost }

var _ transport.Discoverer = (*discoveringHost)(nil)

func (h *discoveringHost) Discovered(ctx context.Context, addr string, record []byte) error {
	return h.m.sup.cb.Discovered(ctx, h.m.spec.Name, addr, record)
}

func (h *transportHost) Event(ev transport.Event) {
	m := h.m
	m.mu.Lock()
	m.lastEvent = &ev
	cur, hasTr := m.state, m.tr != nil
	m.mu.Unlock()
	if hasTr {
		switch {
		case ev.State == transport.StateBlocked && cur == StateReady:
			m.setState(StateBlocked, errors.New(ev.Reason))
		case ev.State == transport.StateReady && cur == StateBlocked:
			m.setState(StateReady, nil)
		}
	}
	if m.sup.cb.Event != nil {
		m.sup.cb.Event(m.spec.Name, ev)
	}
}
