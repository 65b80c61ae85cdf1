package courier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/seal"
	"github.com/onemfive/onemfive/host/store"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Store is the durable state the courier needs (host/store implements it).
type Store interface {
	Enqueue(o store.Outgoing) error
	Ack(id string) (bool, error)
	Due(now time.Time, limit int) ([]store.Outgoing, error)
	Reschedule(id string, next time.Time, attempts int) error
	DropExpired(now time.Time) ([]store.Outgoing, error)
	Receive(id, from string, data []byte, now time.Time) (uint64, bool, error)
	PutPeer(id string, record []byte) error
	Peer(id string) ([]byte, error)
}

// Networks sends packets over live transports.
type Networks interface {
	// Send hands packets to the named network. An error wrapping
	// sdk.ErrPluginGone means the network's plugin is down.
	Send(ctx context.Context, network string, pkts []transport.Packet) error
	// Ready reports whether the named network can send now.
	Ready(network string) bool
}

// Handlers receive what the courier learns. Either may be nil.
type Handlers struct {
	// Received is called once per newly stored envelope.
	Received func(seq uint64, from node.ID, env *envelope.Envelope)
	// Delivery is called when an outbound envelope is acknowledged
	// (state "acked", with the network the ack came over) or given up
	// (state "expired").
	Delivery func(id string, dest node.ID, network, state string)
	// Waiting is called once per envelope, on its first attempt, when no
	// route can carry it yet; why is the route function's reason.
	Waiting func(id string, dest node.ID, why error)
	// Authenticated is called when a data packet that arrived from addr on
	// network has been opened and its sender authenticated, before it is
	// acknowledged to addr (the onion layer binds reply handles to nodes).
	Authenticated func(network, addr string, from node.ID)
	// Intercept, when it returns true, has consumed an authenticated
	// envelope meant for the host itself (relayed web stream frames): it
	// is acknowledged but neither stored in the inbox nor passed to
	// Received, and may come again if the acknowledgement is lost.
	Intercept func(from node.ID, env *envelope.Envelope) bool
}

// RouteFunc chooses the network and address to send a queued envelope to
// its destination over, or says why none can be used now.
type RouteFunc func(dest *node.Record, o store.Outgoing) (network, addr string, why error)

// Options tune the courier. Zero values select the defaults.
type Options struct {
	// DefaultTTL bounds how long an envelope without a TTL is retried.
	DefaultTTL time.Duration // default 7 days
	// MinBackoff and MaxBackoff bound retransmission intervals.
	MinBackoff, MaxBackoff time.Duration // default 1 s and 30 s
	// Tick is how often the outbox is scanned without a nudge.
	Tick time.Duration // default 500 ms
	Now  func() time.Time
	// Route chooses networks (the ManCon policy); nil means the first
	// network in the destination's record that is ready here.
	Route RouteFunc
}

// noRouteRetry bounds the wait of an envelope that had no route.
const noRouteRetry = 2 * time.Second

// Errors callers act on.
var (
	ErrUnknownPeer = errors.New("courier: unknown peer")
	ErrNotNodeID   = errors.New("courier: destination is not a node id")
)

// Courier is the reliable envelope mover. Construct with New, run Run in a
// goroutine, feed inbound packets to HandlePacket.
type Courier struct {
	id    *node.Identity
	st    Store
	nets  Networks
	h     Handlers
	opt   Options
	log   hclog.Logger
	kick  chan struct{}
	recMu sync.RWMutex
	rec   []byte // this node's current signed record
}

// New makes a courier. record is this node's signed peer record (SetRecord
// replaces it when addresses change).
func New(id *node.Identity, st Store, nets Networks, h Handlers, opt Options, log hclog.Logger) *Courier {
	if opt.DefaultTTL == 0 {
		opt.DefaultTTL = 7 * 24 * time.Hour
	}
	if opt.MinBackoff == 0 {
		opt.MinBackoff = time.Second
	}
	if opt.MaxBackoff == 0 {
		opt.MaxBackoff = 30 * time.Second
	}
	if opt.Tick == 0 {
		opt.Tick = 500 * time.Millisecond
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	c := &Courier{id: id, st: st, nets: nets, h: h, log: log, kick: make(chan struct{}, 1)}
	if opt.Route == nil {
		opt.Route = c.firstReady
	}
	c.opt = opt
	if c.log == nil {
		c.log = hclog.NewNullLogger()
	}
	return c
}

// SetRecord sets the signed peer record sent along with envelopes so that
// receivers can answer. It should be bare (no addresses): a receiver
// reached over onion paths must not learn where the sender is.
func (c *Courier) SetRecord(rec []byte) {
	c.recMu.Lock()
	c.rec = rec
	c.recMu.Unlock()
}

func (c *Courier) record() []byte {
	c.recMu.RLock()
	defer c.recMu.RUnlock()
	return c.rec
}

// Nudge asks the sender loop to scan the outbox now (e.g. a network came up).
func (c *Courier) Nudge() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// RetryNow makes the queued envelopes for dest due at once, whatever their
// backoff (a new route to dest appeared), and wakes the sender loop.
func (c *Courier) RetryNow(dest node.ID) {
	c.retry(func(o store.Outgoing) bool { return o.Dest == string(dest) })
}

// RetryAll makes every queued envelope due now: the routes changed (a
// relay was found down), so those sent on the old ones may be lost.
func (c *Courier) RetryAll() { c.retry(func(store.Outgoing) bool { return true }) }

func (c *Courier) retry(match func(store.Outgoing) bool) {
	now := c.opt.Now()
	queued, err := c.st.Due(now.Add(100*365*24*time.Hour), 4096)
	if err != nil {
		c.log.Warn("retry now: outbox scan", "error", err)
		return
	}
	n := 0
	for _, o := range queued {
		if match(o) && o.NextAttempt.After(now) {
			if err := c.st.Reschedule(o.ID, now, o.Attempts); err != nil {
				c.log.Warn("retry now", "id", o.ID, "error", err)
				continue
			}
			n++
		}
	}
	if n > 0 {
		c.log.Debug("envelopes retried at once", "count", n)
		c.Nudge()
	}
}

// AddPeer verifies a peer record and stores it unless a newer one is known.
func (c *Courier) AddPeer(raw []byte) (*node.Record, error) {
	r, err := node.DecodeRecord(raw)
	if err != nil {
		return nil, err
	}
	return r, c.storePeer(r, raw)
}

func (c *Courier) storePeer(r *node.Record, raw []byte) error {
	if r.ID == c.id.ID() {
		return nil
	}
	if old, err := c.st.Peer(string(r.ID)); err == nil {
		o, err := node.DecodeRecord(old)
		if err == nil && !r.Issued.After(o.Issued) {
			return nil
		}
		// A bare record (keys, no addresses: what senders put in their
		// messages) never replaces one that says where the node is.
		if err == nil && len(r.Addresses) == 0 && len(o.Addresses) > 0 && r.BoxKey.Equal(o.BoxKey) {
			return nil
		}
	}
	if err := c.st.PutPeer(string(r.ID), raw); err != nil {
		return fmt.Errorf("courier: store peer: %w", err)
	}
	return nil
}

func (c *Courier) peer(id string) (*node.Record, error) {
	raw, err := c.st.Peer(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %s: add its record first (onemfive peer add)", ErrUnknownPeer, id)
	}
	if err != nil {
		return nil, fmt.Errorf("courier: peer %s: %w", id, err)
	}
	return node.DecodeRecord(raw)
}

// Send seals env to its destination node and queues it durably. It returns
// once the envelope is on disk; delivery happens in Run.
func (c *Courier) Send(ctx context.Context, env *envelope.Envelope) error {
	if err := env.Validate(); err != nil {
		return err
	}
	dest, _, err := node.ParseID(env.To)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotNodeID, err)
	}
	peer, err := c.peer(string(dest))
	if err != nil {
		return err
	}
	env.From = string(c.id.ID())
	body, err := env.MarshalBinary()
	if err != nil {
		return fmt.Errorf("courier: encode envelope: %w", err)
	}
	msg, err := dataMsg{record: c.record(), id: env.ID, envelope: body}.encode()
	if err != nil {
		return err
	}
	pkt, err := seal.Seal(c.id.BoxKey(), peer.BoxKey, msg)
	if err != nil {
		return fmt.Errorf("courier: %w", err)
	}
	now := c.opt.Now()
	ttl := env.TTL
	if ttl == 0 {
		ttl = c.opt.DefaultTTL
	}
	if err := c.st.Enqueue(store.Outgoing{ID: env.ID, Dest: string(dest), Data: pkt, Created: now, NextAttempt: now, Expires: now.Add(ttl)}); err != nil {
		return fmt.Errorf("courier: enqueue: %w", err)
	}
	c.Nudge()
	return ctx.Err()
}

// Run retransmits due envelopes until ctx is done.
func (c *Courier) Run(ctx context.Context) {
	t := time.NewTicker(c.opt.Tick)
	defer t.Stop()
	for {
		c.flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
	}
}

func (c *Courier) backoff(attempts int) time.Duration {
	d := c.opt.MinBackoff
	for i := 1; i < attempts && d < c.opt.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.opt.MaxBackoff)
}

func (c *Courier) flush(ctx context.Context) {
	now := c.opt.Now()
	expired, err := c.st.DropExpired(now)
	if err != nil {
		c.log.Error("drop expired", "error", err)
	}
	for _, o := range expired {
		c.log.Warn("envelope expired undelivered", "id", o.ID, "dest", node.ID(o.Dest).Short(), "attempts", o.Attempts)
		if c.h.Delivery != nil {
			c.h.Delivery(o.ID, node.ID(o.Dest), "", "expired")
		}
	}
	for ctx.Err() == nil {
		due, err := c.st.Due(now, 256)
		if err != nil {
			c.log.Error("outbox scan", "error", err)
			return
		}
		if len(due) == 0 {
			return
		}
		peers := map[string]*node.Record{}
		batches := map[[2]string][]transport.Packet{} // network, address
		for _, o := range due {
			p, ok := peers[o.Dest]
			if !ok {
				if p, err = c.peer(o.Dest); err != nil {
					c.log.Warn("cannot route queued envelope", "id", o.ID, "error", err)
				}
				peers[o.Dest] = p
			}
			next := c.backoff(o.Attempts + 1)
			if p != nil {
				netw, addr, why := c.opt.Route(p, o)
				if why == nil {
					k := [2]string{netw, addr}
					batches[k] = append(batches[k], transport.Packet{Addr: addr, Data: o.Data})
				} else {
					if o.Attempts == 0 {
						c.log.Info("no usable route yet; the envelope waits", "id", o.ID, "dest", p.ID.Short(), "why", why)
						if c.h.Waiting != nil {
							c.h.Waiting(o.ID, p.ID, why)
						}
					}
					// Nothing was sent: look again soon, so the envelope
					// leaves shortly after a route appears.
					next = min(next, noRouteRetry)
				}
			}
			if err := c.st.Reschedule(o.ID, now.Add(next), o.Attempts+1); err != nil {
				c.log.Error("reschedule", "id", o.ID, "error", err)
			}
		}
		for k, pkts := range batches {
			if err := c.nets.Send(ctx, k[0], pkts); err != nil {
				c.log.Debug("send failed, will retry", "network", k[0], "addr", k[1], "packets", len(pkts), "error", err)
			}
		}
		if len(due) < 256 {
			return
		}
	}
}

// ErrNoRoute is what the default route function says when no network in
// the destination's record is ready here.
var ErrNoRoute = errors.New("courier: no network in the destination's record is ready here")

// firstReady picks the first network, in name order, of the destination's
// record that is ready here: the route when no policy is given.
func (c *Courier) firstReady(p *node.Record, _ store.Outgoing) (string, string, error) {
	for _, netw := range sortedKeys(p.Addresses) {
		if addrs := p.Addresses[netw]; len(addrs) > 0 && c.nets.Ready(netw) {
			return netw, addrs[0], nil
		}
	}
	return "", "", ErrNoRoute
}
