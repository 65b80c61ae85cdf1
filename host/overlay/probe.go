package overlay

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/router"
)

// Loop probes (Loopix's loop cover traffic, used here for liveness): now and
// then a node sends itself a packet through its guard, one relay of its
// directory (in turn) and its guard again. A loop that comes back credits the relay; one that
// has not come back after probeTimeout counts as a failure against it. So
// a node learns that a relay is down even when it never dials it itself
// (its guard does), and leaves it out of paths, reply routes and gateways.
//
//	loop payload: 'L' | nonce (8)
const (
	payloadLoop     = 'L'
	maxProbeTimeout = 10 * time.Second
)

// probeDelay draws the wait before the next loop: exponential with mean
// interval (a Poisson process, as Loopix's cover traffic), so the loops'
// timing is memoryless and tells an observer nothing about when real
// messages go; clipped to interval/10..4·interval so liveness checks keep
// a steady pace.
func probeDelay(rng interface{ ExpFloat64() float64 }, interval time.Duration) time.Duration {
	d := time.Duration(rng.ExpFloat64() * float64(interval))
	return min(max(d, interval/10), 4*interval)
}

// probeTimeout is how long a loop may take: five probe intervals, 1 to 10 s.
func (o *Overlay) probeTimeout() time.Duration {
	return min(max(5*o.cfg.ProbeInterval, time.Second), maxProbeTimeout)
}

type probe struct {
	relay node.ID
	sent  time.Time
}

// sendProbe sends one loop through the next relay in turn.
func (o *Overlay) sendProbe(ctx context.Context) error {
	now := o.clock.Now()
	dir, err := o.directory(now)
	if err != nil {
		return err
	}
	ids := make([]node.ID, 0, len(dir))
	mine := o.selfLabels()
	guards := o.guardIDs(dir)
	for id, r := range dir {
		if slices.Contains(guards, id) {
			continue
		}
		// Without guards the loop is relay → here: only relays on a link
		// with this node can close it.
		if len(guards) == 0 && mine != nil && !overlap(mine, r.cand.Networks) {
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	o.mu.Lock()
	o.probeNext++
	target := ids[o.probeNext%len(ids)]
	o.mu.Unlock()
	self, err := o.selfHop()
	if err != nil {
		return err
	}
	// Through the guard and back through it, so that the probed relay sees
	// the guard on both sides and never this node.
	route := []router.Candidate{dir[target].cand}
	if g, err := o.guard(dir, []node.ID{target}); err == nil && g != nil {
		route = []router.Candidate{*g, dir[target].cand, *g}
	}
	hops := make([]onion.Hop, 0, len(route)+1)
	for _, c := range route {
		h, err := c.Hop(0)
		if err != nil {
			return fmt.Errorf("overlay: probe: %w", err)
		}
		hops = append(hops, h)
	}
	hops = append(hops, self)
	var nb [8]byte
	if _, err := io.ReadFull(o.rand, nb[:]); err != nil {
		return err
	}
	nonce := binary.BigEndian.Uint64(nb[:])
	pkt, err := onion.NewPacket(o.rand, hops, append([]byte{payloadLoop}, nb[:]...))
	if err != nil {
		return fmt.Errorf("overlay: probe: %w", err)
	}
	o.mu.Lock()
	o.probes[nonce] = probe{relay: target, sent: now}
	o.mu.Unlock()
	return o.sendTo(ctx, route[0].ID, pkt)
}

// loopBack takes a loop payload that came home.
func (o *Overlay) loopBack(payload []byte) error {
	if len(payload) != 9 {
		return fmt.Errorf("%w: loop payload of %d bytes", ErrMalformed, len(payload))
	}
	nonce := binary.BigEndian.Uint64(payload[1:])
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.probes[nonce]
	if !ok {
		return nil // late, or not ours
	}
	delete(o.probes, nonce)
	o.credit([]node.ID{p.relay})
	return nil
}

// expireProbes counts the loops that did not come back in time against
// their relay.
func (o *Overlay) expireProbes(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for n, p := range o.probes {
		if now.Sub(p.sent) > o.probeTimeout() {
			delete(o.probes, n)
			o.blame([]node.ID{p.relay}, now)
		}
	}
}

func overlap(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
