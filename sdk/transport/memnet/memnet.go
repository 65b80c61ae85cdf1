package memnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Scheme prefixes every memnet address.
const Scheme = "mem:"

// inboxSize bounds how many packets wait for a receiver's Deliver.
const inboxSize = 1024

// maxDeliverBatch bounds how many packets one Deliver call carries.
const maxDeliverBatch = 64

// Errors returned by Transport.
var (
	ErrStopped      = errors.New("memnet: transport stopped")
	ErrNotStarted   = errors.New("memnet: transport not started")
	ErrStarted      = errors.New("memnet: transport already started")
	ErrAddressInUse = errors.New("memnet: address in use")
)

// Network connects the transports and listeners made from it. The zero value
// is ready to use. A Network must not be copied after first use.
type Network struct {
	mu        sync.Mutex
	nodes     map[string]*Transport // started transports by address
	listeners map[string]*Listener
	dropped   atomic.Uint64
}

// NewTransport returns a transport that will hold the address "mem:<name>"
// on n once started. It needs no Configure call, but accepts an empty one.
func (n *Network) NewTransport(name string) *Transport {
	return &Transport{net: n, name: name}
}

// Dropped reports how many packets were sent to addresses that no started
// transport held.
func (n *Network) Dropped() uint64 { return n.dropped.Load() }

func (n *Network) register(t *Transport) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodes == nil {
		n.nodes = make(map[string]*Transport)
	}
	if _, ok := n.nodes[t.addr()]; ok {
		return fmt.Errorf("memnet: start %s: %w", t.addr(), ErrAddressInUse)
	}
	n.nodes[t.addr()] = t
	return nil
}

func (n *Network) unregister(t *Transport) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodes[t.addr()] == t {
		delete(n.nodes, t.addr())
	}
}

func (n *Network) lookup(addr string) *Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.nodes[addr]
}

// Transport is one node on a Network. Its methods are safe for concurrent
// use. The zero value lives alone on a private Network as "mem:mem".
type Transport struct {
	net  *Network
	name string

	initOnce sync.Once

	mu      sync.Mutex
	host    transport.Host
	started bool
	stopped bool
	inbox   chan transport.Packet
	done    chan struct{} // closed when Stop begins
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

var (
	_ transport.Transport = (*Transport)(nil)
	_ transport.Dialer    = (*Transport)(nil)
)

func (t *Transport) init() {
	t.initOnce.Do(func() {
		if t.net == nil {
			t.net = new(Network)
		}
		if t.name == "" {
			t.name = "mem"
		}
	})
}

func (t *Transport) addr() string { return Scheme + t.name }

// Addr returns the address the transport holds while started.
func (t *Transport) Addr() string {
	t.init()
	return t.addr()
}

// Info implements base.Plugin.
func (t *Transport) Info(ctx context.Context) (base.Info, error) {
	return base.Info{
		Name:         "memnet",
		Kind:         base.KindTransport,
		Version:      "1.0.0",
		APIVersions:  []int{1},
		Capabilities: []string{"dial"},
	}, nil
}

// memConfig has no keys: any key in the block is an error.
type memConfig struct{}

// Configure implements base.Plugin. memnet takes no settings; the block must
// be empty.
func (t *Transport) Configure(ctx context.Context, cfg base.Config) error {
	var c memConfig
	if err := cfg.Decode(&c); err != nil {
		return fmt.Errorf("memnet: %w", err)
	}
	return nil
}

// Start implements transport.Transport. It registers the address on the
// Network and starts the delivery goroutine.
func (t *Transport) Start(ctx context.Context, h transport.Host) ([]string, error) {
	t.init()
	if h == nil {
		return nil, errors.New("memnet: start: nil host")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return nil, ErrStopped
	}
	if t.started {
		return nil, ErrStarted
	}
	h.Event(transport.Event{Time: time.Now(), State: transport.StateStarting, Summary: "memnet starting"})
	if err := t.net.register(t); err != nil {
		h.Event(transport.Event{Time: time.Now(), State: transport.StateFailed, Reason: err.Error()})
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	t.host, t.started, t.cancel = h, true, cancel
	t.inbox = make(chan transport.Packet, inboxSize)
	t.done = make(chan struct{})
	t.wg.Add(1)
	go t.deliverLoop(runCtx)
	h.Event(transport.Event{Time: time.Now(), State: transport.StateReady, Progress: 100,
		Summary: "memnet ready at " + t.addr()})
	return []string{t.addr()}, nil
}

// deliverLoop drains the inbox into Host.Deliver in batches until Stop.
func (t *Transport) deliverLoop(ctx context.Context) {
	defer t.wg.Done()
	batch := make([]transport.Packet, 0, maxDeliverBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-t.inbox:
			batch = append(batch[:0], p)
		}
	fill:
		for len(batch) < maxDeliverBatch {
			select {
			case p := <-t.inbox:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		if err := t.host.Deliver(ctx, batch); err != nil && ctx.Err() != nil {
			return
		}
		clear(batch)
	}
}

// Send implements transport.Transport. The batch is checked as a whole
// before any packet is handed on.
func (t *Transport) Send(ctx context.Context, pkts []transport.Packet) error {
	t.init()
	t.mu.Lock()
	started, stopped := t.started, t.stopped
	t.mu.Unlock()
	switch {
	case stopped:
		return ErrStopped
	case !started:
		return ErrNotStarted
	}
	for i, p := range pkts {
		if len(p.Data) > transport.MaxPacketSize {
			return fmt.Errorf("memnet: send: packet %d: %d bytes exceeds %d", i, len(p.Data), transport.MaxPacketSize)
		}
		if !strings.HasPrefix(p.Addr, Scheme) || len(p.Addr) == len(Scheme) {
			return fmt.Errorf("memnet: send: packet %d: malformed address %q", i, p.Addr)
		}
	}
	src := t.addr()
	for _, p := range pkts {
		dst := t.net.lookup(p.Addr)
		if dst == nil {
			t.net.dropped.Add(1)
			continue
		}
		cp := transport.Packet{Addr: src, Data: append([]byte(nil), p.Data...)}
		if err := dst.enqueue(ctx, cp, t.done); err != nil {
			return err
		}
	}
	return nil
}

// enqueue puts p in t's inbox, waiting for room. A receiver that stops
// meanwhile drops the packet, as the network would.
func (t *Transport) enqueue(ctx context.Context, p transport.Packet, senderDone <-chan struct{}) error {
	select {
	case t.inbox <- p:
		return nil
	case <-t.done:
		t.net.dropped.Add(1)
		return nil
	case <-senderDone:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("memnet: send: %w", ctx.Err())
	}
}

// Stop implements transport.Transport. It is idempotent; the stopped event
// is reported once, before the first Stop returns.
func (t *Transport) Stop(ctx context.Context) error {
	t.init()
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return nil
	}
	t.stopped = true
	started := t.started
	if started {
		close(t.done)
		t.cancel()
	}
	t.mu.Unlock()
	if !started {
		return nil
	}
	t.net.unregister(t)
	t.wg.Wait()
	t.host.Event(transport.Event{Time: time.Now(), State: transport.StateStopped, Summary: "memnet stopped"})
	return nil
}

// Dial implements transport.Dialer: it connects to the Listener at addr on
// the same Network.
func (t *Transport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	t.init()
	return t.net.Dial(ctx, addr)
}
