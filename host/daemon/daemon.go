package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/api"
	"github.com/onemfive/onemfive/host/bus"
	"github.com/onemfive/onemfive/host/config"
	"github.com/onemfive/onemfive/host/courier"
	"github.com/onemfive/onemfive/host/events"
	"github.com/onemfive/onemfive/host/mancon"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/overlay"
	"github.com/onemfive/onemfive/host/store"
	"github.com/onemfive/onemfive/host/supervisor"
	"github.com/onemfive/onemfive/host/web"
	"github.com/onemfive/onemfive/host/webrelay"
	"github.com/onemfive/onemfive/registry"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Version is the daemon's release.
const Version = "0.1.0"

// Options are what the daemon needs besides its configuration.
type Options struct {
	// Passphrase encrypts the node key at rest; empty stores it with file
	// permissions alone (the daemon warns).
	Passphrase []byte
	// Trace, if set, is told of every lifecycle step ("start"/"stop", name).
	Trace func(event, step string)
}

// inbound is a packet waiting in the inbound stage.
type inbound struct {
	network string
	pkt     transport.Packet
}

// Daemon is a running host.
type Daemon struct {
	cfg *config.Config
	opt Options
	log hclog.Logger
	lc  lifecycle

	store    *store.Store
	id       *node.Identity
	bus      bus.Bus
	in       *bus.Stage[inbound]
	svcStage *bus.Stage[serviceCall]
	hub      events.Hub[client.Event]
	courier  *courier.Courier
	overlay  *overlay.Overlay // nil when the onion layer is disabled
	mc       *mancon.Engine
	levels   sync.Map // envelope id → requested envelope.ManCon, while queued
	// supv is set by startPlugins and read by goroutines started before it.
	supv    atomic.Pointer[supervisor.Supervisor]
	api     *api.Server
	apiAddr string
	token   string     // the API token, also the web proxy's password
	web     *web.Proxy // nil without a web block
	webAddr string
	relay   *webrelay.Relay
	forced  sync.Map // envelope id → policy.RoutePlan its frames must take (relayed web streams)
	refused sync.Map // peer id → time it said it does not relay web requests

	runCancel    context.CancelFunc
	policyCancel context.CancelFunc
	runWG        sync.WaitGroup
	policyWG     sync.WaitGroup
	started      time.Time
	rejected     uint64 // packets that did not open/parse, under recMu
	recMu        sync.Mutex
	annMu        sync.Mutex     // serialises announce
	annWG        sync.WaitGroup // announcements in flight
	annGate      sync.Mutex     // orders annWG.Add against the Wait at shutdown
	annStopped   bool           // under annGate
	record       []byte

	overlayCancel context.CancelFunc
	overlayWG     sync.WaitGroup
	obsFile       *os.File
}

// New prepares a daemon; nothing runs until Start.
func New(cfg *config.Config, opt Options, log hclog.Logger) *Daemon {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	d := &Daemon{cfg: cfg, opt: opt, log: log}
	d.lc = lifecycle{trace: opt.Trace, steps: []step{
		{"datadir", d.startDataDir, nil},
		{"store", d.startStore, d.stopStore},
		{"identity", d.startIdentity, nil},
		{"policy", d.startPolicy, d.stopPolicy},
		{"bus", d.startBus, d.stopBus},
		{"overlay", d.startOverlay, d.stopOverlay},
		{"courier", d.startCourier, d.stopCourier},
		{"plugins", d.startPlugins, d.stopPlugins},
		{"webrelay", d.startRelay, d.stopRelay},
		{"api", d.startAPI, d.stopAPI},
		{"web", d.startWeb, d.stopWeb},
	}}
	return d
}

// Start brings the daemon up, in order. On error everything already started
// is stopped again.
func (d *Daemon) Start(ctx context.Context) error {
	d.started = time.Now()
	return d.lc.start(ctx)
}

// Shutdown stops the daemon in reverse order, bounded by ctx.
func (d *Daemon) Shutdown(ctx context.Context) error { return d.lc.stop(ctx) }

// APIAddr is the local API's listen address once started.
func (d *Daemon) APIAddr() string {
	return d.apiAddr
}

// NodeID is this node's id once the identity step has run.
func (d *Daemon) NodeID() node.ID { return d.id.ID() }

func (d *Daemon) startDataDir(context.Context) error {
	if err := os.MkdirAll(d.cfg.DataDir, 0o700); err != nil {
		return err
	}
	return os.Chmod(d.cfg.DataDir, 0o700)
}

func (d *Daemon) startStore(context.Context) error {
	st, err := store.Open(filepath.Join(d.cfg.DataDir, "store"), d.log.Named("store"))
	if err != nil {
		return err
	}
	d.store = st
	return nil
}

func (d *Daemon) stopStore(context.Context) error { return d.store.Close() }

func (d *Daemon) startIdentity(context.Context) error {
	id, created, err := node.LoadOrCreate(filepath.Join(d.cfg.DataDir, "node.key"), d.opt.Passphrase)
	if err != nil {
		return err
	}
	d.id = id
	if len(d.opt.Passphrase) == 0 {
		d.log.Warn("node key is stored unencrypted (file mode 0600 only); set ONEMFIVE_PASSPHRASE to encrypt it")
	}
	d.log.Info("node identity", "id", id.ID(), "created", created, "fingerprint", id.Fingerprint())
	return nil
}

func (d *Daemon) startBus(ctx context.Context) error {
	d.in = bus.NewStage("inbound", bus.StageOptions{QueueSize: 4096, Workers: 2, Logger: d.log.Named("bus"),
		OnError: func(_ string, _ any, err error) {
			if errors.Is(err, courier.ErrRejected) {
				d.log.Debug("packet dropped", "error", err)
				d.recMu.Lock()
				d.rejected++
				d.recMu.Unlock()
				return
			}
			d.log.Warn("inbound packet", "error", err)
		}},
		func(ctx context.Context, v inbound) error {
			if overlay.IsPacket(v.pkt.Data) {
				if d.overlay == nil {
					return fmt.Errorf("%w: onion packet from %s %s, but the onion layer is disabled", courier.ErrRejected, v.network, v.pkt.Addr)
				}
				if err := d.overlay.HandlePacket(ctx, v.network, v.pkt.Addr, v.pkt.Data); err != nil {
					return fmt.Errorf("%w: onion packet from %s %s: %w", courier.ErrRejected, v.network, v.pkt.Addr, err)
				}
				return nil
			}
			return d.courier.HandlePacket(ctx, v.network, v.pkt)
		})
	d.svcStage = bus.NewStage("services", bus.StageOptions{QueueSize: 1024, Workers: 4, Logger: d.log.Named("bus")},
		d.handleService)
	for _, s := range []bus.Statser{d.in, d.svcStage} {
		if err := d.bus.Register(s); err != nil {
			return err
		}
	}
	if err := d.in.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	return d.svcStage.Start(context.WithoutCancel(ctx))
}

func (d *Daemon) stopBus(ctx context.Context) error {
	return errors.Join(d.in.Stop(ctx), d.svcStage.Stop(ctx))
}

func (d *Daemon) startCourier(ctx context.Context) error {
	d.courier = courier.New(d.id, d.store, networks{d}, courier.Handlers{
		Received: d.onReceived,
		Delivery: func(id string, dest node.ID, network, state string) {
			d.levels.Delete(id)
			if _, relayed := d.forced.LoadAndDelete(id); relayed {
				return // a relayed web stream's frame: not news for applications
			}
			if state == "acked" && network != "" {
				d.mc.Success(network)
			}
			d.hub.Publish(client.Event{Type: client.EventDelivery, Time: time.Now(), Message: state,
				Data: map[string]any{"id": id, "state": state, "dest": string(dest), "network": network}})
		},
		Waiting: func(id string, dest node.ID, why error) {
			if _, relayed := d.forced.Load(id); relayed {
				return
			}
			d.hub.Publish(client.Event{Type: client.EventDelivery, Time: time.Now(), Message: "waiting: " + why.Error(),
				Data: map[string]any{"id": id, "state": "waiting", "dest": string(dest)}})
		},
		Intercept: d.interceptRelay,
		Authenticated: func(network, addr string, from node.ID) {
			if network == onionNetwork && d.overlay != nil && overlay.IsHandle(addr) {
				d.overlay.Bind(addr, from)
			}
		},
	}, courier.Options{Route: d.route}, d.log.Named("courier"))
	if err := d.refreshRecord(); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.runCancel = cancel
	d.runWG.Add(1)
	go func() { defer d.runWG.Done(); d.courier.Run(runCtx) }()
	return nil
}

func (d *Daemon) stopCourier(context.Context) error {
	d.runCancel()
	d.runWG.Wait()
	return nil
}

func (d *Daemon) startPlugins(ctx context.Context) error {
	reg := registry.New(d.cfg.PluginDir, d.log.Named("registry"))
	sv := supervisor.New(reg, supervisor.Callbacks{
		Packets:     d.onPackets,
		Event:       d.onTransportEvent,
		Discovered:  d.onDiscovered,
		State:       d.onPluginState,
		ServiceSend: d.onServiceSend,
	}, supervisor.Options{DataDir: d.cfg.DataDir}, d.log)
	d.supv.Store(sv)
	var specs []supervisor.Spec
	for _, p := range d.cfg.Plugins {
		if p.Enabled {
			specs = append(specs, supervisor.Spec{Name: p.Name, Block: p.Block})
		}
	}
	if err := d.sup().Start(ctx, specs); err != nil {
		return err
	}
	return d.refreshRecord()
}

// sup is the plugin supervisor, nil before startPlugins.
func (d *Daemon) sup() *supervisor.Supervisor { return d.supv.Load() }

func (d *Daemon) stopPlugins(ctx context.Context) error {
	d.annGate.Lock()
	d.annStopped = true
	d.annGate.Unlock()
	d.annWG.Wait() // each is bounded by its own timeout
	return d.sup().Shutdown(ctx)
}

func (d *Daemon) startAPI(ctx context.Context) error {
	token, err := api.WriteCookie(d.cfg.DataDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", d.cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("api: listen %s: %w", d.cfg.API.Listen, err)
	}
	d.token = token
	d.api = &api.Server{Backend: backend{d}, Token: token, DataDir: d.cfg.DataDir, Logger: d.log.Named("api")}
	d.apiAddr = ln.Addr().String()
	go func() {
		if err := d.api.Serve(context.WithoutCancel(ctx), ln); err != nil {
			d.log.Error("api server stopped", "error", err)
		}
	}()
	d.log.Info("local API listening", "addr", ln.Addr().String())
	return nil
}

func (d *Daemon) stopAPI(ctx context.Context) error { return d.api.Shutdown(ctx) }

// refreshRecord re-signs this node's record with the transports' current
// addresses and hands it to the courier.
func (d *Daemon) refreshRecord() error {
	var addrs map[string][]string
	if d.sup() != nil {
		addrs = d.sup().Addresses()
	}
	now := time.Now()
	rec, err := d.id.NewRecord(addrs, now, d.mixRecords()...)
	if err != nil {
		return err
	}
	// Envelopes carry the bare record (keys only): a receiver learns who
	// wrote, not where the writer is.
	bare, err := d.id.NewRecord(nil, now)
	if err != nil {
		return err
	}
	d.recMu.Lock()
	d.record = rec
	d.recMu.Unlock()
	d.courier.SetRecord(bare)
	if d.sup() != nil {
		d.annGate.Lock()
		if !d.annStopped {
			d.annWG.Add(1)
			go func() { defer d.annWG.Done(); d.announce(rec) }()
		}
		d.annGate.Unlock()
	}
	return nil
}

func (d *Daemon) currentRecord() []byte {
	d.recMu.Lock()
	defer d.recMu.Unlock()
	return d.record
}

func (d *Daemon) onPackets(ctx context.Context, network string, pkts []transport.Packet) error {
	for _, p := range pkts {
		// The transport may reuse its buffers after Deliver returns.
		p.Data = append([]byte(nil), p.Data...)
		if err := d.in.Submit(ctx, inbound{network: network, pkt: p}); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) onReceived(seq uint64, from node.ID, env *envelope.Envelope) {
	item := client.InboxItem{Seq: seq, From: string(from), Received: time.Now(), Envelope: *env}
	d.hub.Publish(client.Event{Seq: seq, Type: client.EventEnvelope, Time: item.Received, Envelope: &item})
	// An envelope naming a service that runs here is also handed to it;
	// replies go back to the sender. The inbox keeps the durable record.
	if env.Service != "" {
		if _, err := d.sup().Service(env.Service); err == nil {
			c := serviceCall{name: env.Service, env: env, origin: string(from)}
			if err := d.svcStage.TrySubmit(c); err != nil {
				d.log.Warn("service call dropped", "service", env.Service, "from", from.Short(), "error", err)
			}
		}
	}
}

// announce hands rec to the transports that advertise this node to nearby
// peers, unless a newer record has replaced it meanwhile (that one is on
// its way). annMu keeps announcements in order.
func (d *Daemon) announce(rec []byte) {
	d.annMu.Lock()
	defer d.annMu.Unlock()
	if !bytes.Equal(rec, d.currentRecord()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.sup().Announce(ctx, rec); err != nil {
		d.log.Warn("announce node record", "error", err)
	}
}

// onDiscovered stores a record a transport heard from a nearby peer: the
// courier verifies it and keeps the newest by Issued.
func (d *Daemon) onDiscovered(ctx context.Context, network, addr string, record []byte) error {
	r, err := d.courier.AddPeer(record)
	if err != nil {
		d.log.Debug("discovered record rejected", "network", network, "addr", addr, "error", err)
		return err
	}
	d.courier.Nudge()
	nets := make([]string, 0, len(r.Addresses))
	for n := range r.Addresses {
		nets = append(nets, n)
	}
	slices.Sort(nets)
	d.log.Info("peer discovered", "network", network, "addr", addr, "peer", r.ID.Short(), "networks", nets)
	te := client.TransportEvent{Time: time.Now(), Plugin: network, State: transport.StateReady.String(), Phase: "peer_discovered",
		Summary: fmt.Sprintf("peer %s at %s reaches %v", r.ID.Short(), addr, nets)}
	d.hub.Publish(client.Event{Type: client.EventTransport, Time: te.Time, Transport: &te,
		Data: map[string]any{"peer": string(r.ID), "addr": addr, "networks": nets}})
	return nil
}

func (d *Daemon) onTransportEvent(network string, ev transport.Event) {
	if ev.Phase == "dial_failed" && ev.Addr != "" && d.overlay != nil {
		d.overlay.Unreachable(network, ev.Addr)
	}
	d.onNetworkEvent(network, ev)
	te := transportEvent(network, ev)
	d.hub.Publish(client.Event{Type: client.EventTransport, Time: te.Time, Transport: &te})
}

func (d *Daemon) onPluginState(name string, st supervisor.State, err error) {
	msg := fmt.Sprintf("plugin %s %s", name, st)
	data := map[string]any{"plugin": name, "state": string(st)}
	if err != nil {
		msg += ": " + err.Error()
		data["error"] = err.Error()
	}
	if err != nil {
		d.log.Info("plugin state", "plugin", name, "state", st, "error", err)
	} else {
		d.log.Info("plugin state", "plugin", name, "state", st)
	}
	d.hub.Publish(client.Event{Type: client.EventPlugin, Time: time.Now(), Message: msg, Data: data})
	d.onNetworkState(name, st, err)
	if st == supervisor.StateReady && d.courier != nil {
		if err := d.refreshRecord(); err != nil {
			d.log.Error("refresh node record", "error", err)
		}
		d.courier.Nudge()
	}
}

// networks adapts the supervisor to the courier.
type networks struct{ d *Daemon }

func (n networks) Send(ctx context.Context, network string, pkts []transport.Packet) error {
	if network == onionNetwork {
		return n.d.sendOnion(ctx, pkts)
	}
	if n.d.sup() == nil {
		return fmt.Errorf("daemon: network %s: %w", network, supervisor.ErrPluginGone)
	}
	return n.d.sup().Send(ctx, network, pkts)
}

func (n networks) Ready(network string) bool {
	if network == onionNetwork {
		return n.d.overlay != nil
	}
	return n.d.sup() != nil && n.d.sup().Ready(network)
}
