package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/mixkey"
	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/store"
)

// Forwarder sends a packet to the node with id next. The daemon maps node ids
// to a network and an address. pkt is onion.PacketSize bytes and owned by the
// callee.
type Forwarder interface {
	Forward(ctx context.Context, next [32]byte, pkt []byte) error
}

// Deliverer takes a payload whose path ended at this node.
type Deliverer interface {
	Deliver(ctx context.Context, d Delivery) error
}

// Delivery is a payload for this node.
type Delivery struct {
	// Kind is onion.KindDeliver or onion.KindDeliverSURB.
	Kind onion.Kind
	// SURBID names the reply block (KindDeliverSURB only).
	SURBID [onion.SURBIDSize]byte
	// Payload is the verified payload (KindDeliver) or the still-encrypted
	// body to open with the SURB's onion.SURBKeys (KindDeliverSURB).
	Payload []byte
	// Network is the network the last hop arrived on.
	Network string
	// Epoch is the mix-key epoch that opened the packet.
	Epoch uint64
}

// Incoming is one packet as it arrived.
type Incoming struct {
	// Network is the transport it came on (e.g. "direct", "tor").
	Network string
	// From is the previous hop as the caller knows it (a node id or a
	// transport address); the relay only records it in observations.
	From string
	// Packet is the onion packet.
	Packet []byte
}

// Observation is what this node saw of one packet (test mode).
type Observation struct {
	Time    time.Time
	Network string
	// From is Incoming.From.
	From string
	// Kind is the command this node read; zero when the packet was dropped
	// before its command was known.
	Kind onion.Kind
	// Next is the next hop (relay only).
	Next [32]byte
	// Delay is the mixing delay (relay only).
	Delay time.Duration
	// Drop is why the packet was dropped, DropNone when it was accepted.
	Drop Reason
}

// Clock is the relay's time source.
type Clock interface {
	Now() time.Time
	// After delivers once, d after Now.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// Sentinels Process wraps (besides the onion errors).
var (
	ErrReplayed   = errors.New("relay: replayed packet")
	ErrWrongEpoch = errors.New("relay: packet for a key outside its epoch")
	ErrNoKey      = errors.New("relay: no accepted mix key")
	ErrStore      = errors.New("relay: store")
	ErrDelay      = errors.New("relay: mixing delay above the limit")
)

// Config builds a Processor. Keys, Replay, Queue, Forwarder and Deliverer
// are required.
type Config struct {
	Keys     *mixkey.Ring
	Schedule mixkey.Schedule
	Replay   *store.ReplayCache
	Queue    *store.MixQueue
	// Forwarder receives relayed packets, Deliverer final payloads.
	Forwarder Forwarder
	Deliverer Deliverer
	// Clock defaults to SystemClock.
	Clock Clock
	// Observe, when set, is called once per packet Process handles (test
	// mode). It must not block for long: it runs on Process's goroutine.
	Observe func(Observation)
	// Logger defaults to a null logger.
	Logger hclog.Logger
	// MaxDelay caps the mixing delay a packet may ask for (0 means
	// onion.MaxDelay); longer ones are dropped (DropDelay) so a sender
	// cannot park packets in the queue for months.
	MaxDelay time.Duration
}

// Processor is one node's relay. Build it with New.
type Processor struct {
	cfg   Config
	clock Clock
	log   hclog.Logger
	stats counters

	// wake tells Run a packet was held.
	wake chan struct{}
	// flushMu serialises FlushDue so a packet is not forwarded twice by
	// concurrent flushes.
	flushMu sync.Mutex
}

// New checks cfg and returns a Processor. Packets held by an earlier
// Processor on the same store are forwarded once Run starts.
func New(cfg Config) (*Processor, error) {
	var missing []string
	if cfg.Keys == nil {
		missing = append(missing, "Keys")
	}
	if cfg.Replay == nil {
		missing = append(missing, "Replay")
	}
	if cfg.Queue == nil {
		missing = append(missing, "Queue")
	}
	if cfg.Forwarder == nil {
		missing = append(missing, "Forwarder")
	}
	if cfg.Deliverer == nil {
		missing = append(missing, "Deliverer")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("relay: config: missing %v", missing)
	}
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, fmt.Errorf("relay: config: %w", err)
	}
	p := &Processor{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if p.clock == nil {
		p.clock = SystemClock
	}
	if p.log == nil {
		p.log = hclog.NewNullLogger()
	}
	if p.cfg.MaxDelay <= 0 {
		p.cfg.MaxDelay = onion.MaxDelay
	}
	n, err := cfg.Queue.Len()
	if err != nil {
		return nil, fmt.Errorf("relay: %w: %w", ErrStore, err)
	}
	p.stats.held.Store(int64(n))
	return p, nil
}

// Process handles one incoming packet: it opens it, checks its replay tag,
// and holds, forwards or delivers it. It returns nil when the packet was
// accepted, or an error wrapping the reason it was dropped (counted in
// Stats). A Forward or Deliver error for a packet with no delay is returned
// too (counted as ForwardFailed or DeliverFailed).
func (p *Processor) Process(ctx context.Context, in Incoming) error {
	p.stats.received.Add(1)
	obs := Observation{Time: p.clock.Now(), Network: in.Network, From: in.From}
	res, epoch, reason, err := p.open(in.Packet, obs.Time)
	if err == nil {
		obs.Kind, obs.Next, obs.Delay = res.Command.Kind, res.Command.Next, res.Command.Delay
		if res.Command.Kind != onion.KindRelay {
			obs.Next = [32]byte{}
		}
		if res.Command.Delay > p.cfg.MaxDelay {
			reason, err = DropDelay, fmt.Errorf("%w: %s", ErrDelay, res.Command.Delay)
		} else {
			reason, err = p.checkReplay(epoch, res.ReplayTag)
		}
	}
	if err != nil {
		p.drop(reason, &obs)
		return err
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(obs)
	}
	cmd := res.Command
	switch {
	case cmd.Kind == onion.KindRelay && cmd.Delay > 0:
		return p.hold(obs.Time.Add(cmd.Delay), res)
	case cmd.Kind == onion.KindRelay:
		if err := p.cfg.Forwarder.Forward(ctx, cmd.Next, res.Packet); err != nil {
			p.stats.reasons[DropForward].Add(1)
			return fmt.Errorf("relay: forward: %w", err)
		}
		p.stats.forwarded.Add(1)
		return nil
	default:
		d := Delivery{Kind: cmd.Kind, SURBID: cmd.SURBID, Payload: res.Payload, Network: in.Network, Epoch: epoch}
		if err := p.cfg.Deliverer.Deliver(ctx, d); err != nil {
			p.stats.reasons[DropDeliver].Add(1)
			return fmt.Errorf("relay: deliver: %w", err)
		}
		p.stats.delivered.Add(1)
		return nil
	}
}

func (p *Processor) drop(r Reason, obs *Observation) {
	p.stats.reasons[r].Add(1)
	if p.cfg.Observe != nil {
		obs.Drop = r
		p.cfg.Observe(*obs)
	}
}

// open tries the accepted keys, then the held but unaccepted ones.
func (p *Processor) open(pkt []byte, now time.Time) (*onion.Result, uint64, Reason, error) {
	if len(pkt) != onion.PacketSize {
		return nil, 0, DropSize, fmt.Errorf("relay: %w: %d bytes", onion.ErrSize, len(pkt))
	}
	keys := p.cfg.Keys.Accepted(p.cfg.Schedule, now)
	var tried []uint64
	for _, k := range keys {
		res, err := onion.Unwrap(k.Private, pkt)
		if err == nil {
			return res, k.Epoch, DropNone, nil
		}
		if !errors.Is(err, onion.ErrMAC) {
			return nil, 0, classify(err), fmt.Errorf("relay: epoch %d: %w", k.Epoch, err)
		}
		tried = append(tried, k.Epoch)
	}
	// A key held outside its window: tell wrong-epoch apart from a bad MAC.
	for _, e := range p.cfg.Keys.Epochs() {
		if slices.Contains(tried, e) {
			continue
		}
		k, err := p.cfg.Keys.Get(e)
		if err != nil {
			continue // pruned meanwhile
		}
		// These outcomes all mean the header MAC verified under k.
		_, err = onion.Unwrap(k.Private, pkt)
		if err == nil || errors.Is(err, onion.ErrCommand) || errors.Is(err, onion.ErrPayloadTagged) {
			return nil, 0, DropWrongEpoch, fmt.Errorf("%w: epoch %d at %s", ErrWrongEpoch, e, now.UTC().Format(time.RFC3339))
		}
	}
	if len(keys) == 0 {
		return nil, 0, DropNoKey, ErrNoKey
	}
	return nil, 0, DropMAC, fmt.Errorf("relay: %w", onion.ErrMAC)
}

func classify(err error) Reason {
	switch {
	case errors.Is(err, onion.ErrSize):
		return DropSize
	case errors.Is(err, onion.ErrPayloadTagged):
		return DropTagged
	default: // ErrVersion, ErrKey, ErrCommand
		return DropMalformed
	}
}

func (p *Processor) checkReplay(epoch uint64, tag [onion.ReplayTagSize]byte) (Reason, error) {
	seen, err := p.cfg.Replay.SeenTag(epoch, tag)
	if err != nil {
		// Fail closed: a concurrent copy may already have been refused.
		return DropStore, fmt.Errorf("relay: %w: %w", ErrStore, err)
	}
	if seen {
		return DropReplayed, ErrReplayed
	}
	return DropNone, nil
}
