package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/onemfive/onemfive/registry"
	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// ErrPluginGone is returned (wrapped) by calls to a plugin that is not running.
var ErrPluginGone = sdk.ErrPluginGone

// ErrUnknownNetwork is returned for a network no plugin provides.
var ErrUnknownNetwork = errors.New("supervisor: unknown network")

// ErrUnknownService is returned for a service no plugin provides.
var ErrUnknownService = errors.New("supervisor: unknown service")

// HostAPIVersions are the plugin API majors this host speaks.
var HostAPIVersions = []int{sdk.APIVersion}

// Spec is one plugin to run.
type Spec struct {
	Name  string
	Block base.Config
}

// Callbacks connect running transports to the rest of the host.
type Callbacks struct {
	// Packets receives packets from the named network. It may block
	// (backpressure reaches the plugin's stream).
	Packets func(ctx context.Context, network string, pkts []transport.Packet) error
	// Event receives transport status events.
	Event func(network string, ev transport.Event)
	// State is told when a plugin's lifecycle state changes.
	State func(name string, st State, err error)
	// Discovered receives a peer record a transport heard from a nearby
	// peer at a transport address of that network (transport.Discoverer).
	// The callee verifies it. Nil: transports are not asked for
	// discoveries.
	Discovered func(ctx context.Context, network, addr string, record []byte) error
	// ServiceSend receives envelopes a service plugin puts on the bus.
	ServiceSend func(ctx context.Context, service string, env *envelope.Envelope) error
}

// Options tune the supervisor.
type Options struct {
	DataDir     string        // plugins get DataDir/plugins/<name>
	MinBackoff  time.Duration // default 200 ms
	MaxBackoff  time.Duration // default 30 s
	HealthEvery time.Duration // default 1 s
	StartWait   time.Duration // how long Start waits for first launches; default 20 s
}

// Supervisor owns the plugin processes.
type Supervisor struct {
	reg  *registry.Registry
	cb   Callbacks
	opt  Options
	log  hclog.Logger
	mu   sync.RWMutex
	all  map[string]*managed
	wg   sync.WaitGroup
	stop context.CancelFunc
}

// New makes a supervisor; nothing runs until Start.
func New(reg *registry.Registry, cb Callbacks, opt Options, log hclog.Logger) *Supervisor {
	if opt.MinBackoff == 0 {
		opt.MinBackoff = 200 * time.Millisecond
	}
	if opt.MaxBackoff == 0 {
		opt.MaxBackoff = 30 * time.Second
	}
	if opt.HealthEvery == 0 {
		opt.HealthEvery = time.Second
	}
	if opt.StartWait == 0 {
		opt.StartWait = 20 * time.Second
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Supervisor{reg: reg, cb: cb, opt: opt, log: log.Named("supervisor"), all: map[string]*managed{}}
}

// Start launches every spec and returns when each has made its first launch
// attempt (successful or not) or ctx is done. Plugins that fail keep being
// retried in the background; their state says why.
func (s *Supervisor) Start(ctx context.Context, specs []Spec) error {
	manifests, listErr := s.reg.List(ctx)
	if listErr != nil {
		s.log.Warn("plugin directory has problems", "error", listErr)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	var first sync.WaitGroup
	for _, sp := range specs {
		m := &managed{sup: s, spec: sp, state: StateStarting, firstDone: make(chan struct{})}
		i := slices.IndexFunc(manifests, func(m registry.Manifest) bool { return m.Name == sp.Name })
		if i < 0 {
			m.setState(StateMissing, fmt.Errorf("supervisor: plugin %s is configured but not installed in %s (onemfive plugin install PATH)", sp.Name, s.reg.Dir()))
			s.add(m)
			continue
		}
		m.manifest = manifests[i]
		s.add(m)
		first.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			m.run(runCtx, first.Done)
		}()
	}
	done := make(chan struct{})
	go func() { first.Wait(); close(done) }()
	t := time.NewTimer(s.opt.StartWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("some plugins are still starting", "waited", s.opt.StartWait)
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (s *Supervisor) add(m *managed) {
	s.mu.Lock()
	s.all[m.spec.Name] = m
	s.mu.Unlock()
}

func (s *Supervisor) get(name string) *managed {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.all[name]
}

// Send hands packets to the transport plugin named network.
func (s *Supervisor) Send(ctx context.Context, network string, pkts []transport.Packet) error {
	m := s.get(network)
	if m == nil {
		return fmt.Errorf("%w %q", ErrUnknownNetwork, network)
	}
	tr := m.transport()
	if tr == nil {
		return fmt.Errorf("supervisor: network %s: %w", network, ErrPluginGone)
	}
	err := tr.Send(ctx, pkts)
	if errors.Is(err, ErrPluginGone) {
		m.poke()
	}
	return err
}

// Ready reports whether network's transport is running and ready.
func (s *Supervisor) Ready(network string) bool {
	m := s.get(network)
	return m != nil && m.ready()
}

// Dialer returns the running transport of network, if it can dial.
func (s *Supervisor) Dialer(network string) (transport.Dialer, error) {
	m := s.get(network)
	if m == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownNetwork, network)
	}
	tr := m.transport()
	if tr == nil {
		return nil, fmt.Errorf("supervisor: network %s: %w", network, ErrPluginGone)
	}
	return tr, nil
}

// Service returns the running service plugin called name.
func (s *Supervisor) Service(name string) (service.Service, error) {
	m := s.get(name)
	if m == nil || m.manifest.Kind != base.KindService {
		return nil, fmt.Errorf("%w %q", ErrUnknownService, name)
	}
	svc := m.service()
	if svc == nil {
		return nil, fmt.Errorf("supervisor: service %s: %w", name, ErrPluginGone)
	}
	return svc, nil
}

// Announce hands record, this node's signed peer record, to every running
// transport that announces itself to nearby peers (capability "announce").
func (s *Supervisor) Announce(ctx context.Context, record []byte) error {
	s.mu.RLock()
	all := make([]*managed, 0, len(s.all))
	for _, m := range s.all {
		all = append(all, m)
	}
	s.mu.RUnlock()
	var errs []error
	for _, m := range all {
		m.mu.Lock()
		announces := slices.Contains(m.info.Capabilities, "announce")
		m.mu.Unlock()
		if !announces {
			continue
		}
		if tr := m.transport(); tr != nil {
			if err := tr.Announce(ctx, record); err != nil {
				errs = append(errs, fmt.Errorf("supervisor: announce on %s: %w", m.spec.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Addresses returns each ready transport's local addresses, by network.
func (s *Supervisor) Addresses() map[string][]string {
	out := map[string][]string{}
	for _, st := range s.Status() {
		if st.State == StateReady && st.Kind == base.KindTransport && len(st.Addresses) > 0 {
			out[st.Name] = st.Addresses
		}
	}
	return out
}

// Status returns a snapshot of every plugin, sorted by name.
func (s *Supervisor) Status() []Status {
	s.mu.RLock()
	ms := make([]*managed, 0, len(s.all))
	for _, m := range s.all {
		ms = append(ms, m)
	}
	s.mu.RUnlock()
	out := make([]Status, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.status())
	}
	slices.SortFunc(out, func(a, b Status) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// Shutdown stops every plugin (Stop RPC, then kill) and waits for the
// supervision goroutines, bounded by ctx.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	if s.stop != nil {
		s.stop()
	}
	s.mu.RLock()
	ms := make([]*managed, 0, len(s.all))
	for _, m := range s.all {
		ms = append(ms, m)
	}
	s.mu.RUnlock()
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() { defer wg.Done(); m.shutdown(ctx) }()
	}
	wg.Wait()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("supervisor: shutdown: %w", ctx.Err())
	}
}

func (s *Supervisor) newClient(m *managed) (*plugin.Client, error) {
	path := filepath.Join(s.reg.Dir(), m.manifest.Binary)
	if err := s.reg.Verify(m.manifest); err != nil {
		return nil, err
	}
	sc, err := m.manifest.SecureConfig()
	if err != nil {
		return nil, fmt.Errorf("supervisor: plugin %s: %w", m.spec.Name, err)
	}
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), "ONEMFIVE_PARENT_PID="+strconv.Itoa(os.Getpid()))
	// Own process group: a Ctrl-C or a signal to the host's group must not
	// reach the plugin before the host has stopped it in order. The death
	// signal and the SDK watchdog still end it with the host.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginSet(),
		Cmd:              cmd,
		SecureConfig:     sc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
		Logger:           s.log.ResetNamed("plugin." + m.spec.Name),
		StartTimeout:     15 * time.Second,
		// The host's own stdio is not the plugin's: its stderr is parsed
		// as hclog JSON and re-levelled under its name.
	}), nil
}
