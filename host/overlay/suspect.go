package overlay

import (
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

// A relay is suspected of being down when a transport of this node could
// not reach it (Unreachable), or when suspectThreshold loop probes through
// it in a row did not come back (probe.go); a loop that comes back clears
// it. A suspected relay is left out of new paths, reply routes and
// gateways for suspectTTL while others can take its place. Failed
// messages and lookups are not counted: they implicate every relay on
// their paths, the honest ones with the dead one.
const (
	suspectThreshold = 2
	suspectTTL       = 2 * time.Minute
)

// suspicion counts a relay's recent failures.
type suspicion struct {
	score int
	until time.Time
}

// forwardPath is filled with the relays of a message once it is sent; the
// reply blocks it carried point to it, so a reply credits them.
type forwardPath struct {
	relays []node.ID // under mu
}

// credit clears the suspicion of ids: something went through them. Call
// with mu held.
func (o *Overlay) credit(ids []node.ID) {
	for _, id := range ids {
		delete(o.suspect, id)
	}
}

// blame records one failure against ids (guards excepted: they are chosen
// by the user and cannot be avoided). Call with mu held.
func (o *Overlay) blame(ids []node.ID, now time.Time) {
	for _, id := range ids {
		if id == "" || slices.Contains(o.cfg.Guards, id) {
			continue
		}
		s := o.suspect[id]
		if now.After(s.until) {
			s.score = 0
		}
		s.score++
		s.until = now.Add(suspectTTL)
		o.suspect[id] = s
		if s.score == suspectThreshold {
			o.log.Info("relay suspected down; avoiding it", "relay", id.Short(), "for", suspectTTL)
			o.newSuspect = true
		}
	}
}

// notifySuspected tells Config.Suspected, once per batch of new
// suspicions, that paths changed: messages that may have died on the
// suspected relay can be sent again at once. Call without mu.
func (o *Overlay) notifySuspected() {
	o.mu.Lock()
	fire := o.newSuspect
	o.newSuspect = false
	o.mu.Unlock()
	if fire && o.cfg.Suspected != nil {
		o.cfg.Suspected()
	}
}

// suspects lists the relays to avoid now. Call with mu held.
func (o *Overlay) suspects(now time.Time) []node.ID {
	var out []node.ID
	for id, s := range o.suspect {
		switch {
		case now.After(s.until):
			delete(o.suspect, id)
		case s.score >= suspectThreshold:
			out = append(out, id)
		}
	}
	return out
}

// Unreachable tells the overlay that a transport could not reach addr on
// network (a dial failed). The node with that address is left out of new
// paths and reply routes for suspectTTL, or until a packet arrives from it.
func (o *Overlay) Unreachable(network, addr string) {
	raw, err := o.cfg.Store.Peers()
	if err != nil {
		return
	}
	now := o.clock.Now()
	for _, b := range raw {
		rec, err := node.DecodeRecord(b)
		if err != nil || !slices.Contains(rec.Addresses[network], addr) {
			continue
		}
		o.mu.Lock()
		o.unreachable[addr] = rec.ID
		all := true // every address of the node on this network failed
		for _, a := range rec.Addresses[network] {
			if _, bad := o.unreachable[a]; !bad {
				all = false
			}
		}
		if all {
			if s := o.suspect[rec.ID]; s.score < suspectThreshold || now.After(s.until) {
				o.log.Info("relay unreachable; avoiding it", "relay", rec.ID.Short(), "network", network, "addr", addr, "for", suspectTTL)
				o.newSuspect = true
			}
			o.suspect[rec.ID] = suspicion{score: suspectThreshold, until: now.Add(suspectTTL)}
		}
		o.mu.Unlock()
	}
	o.notifySuspected()
}

// heardFrom clears the suspicion of the node at addr: a packet from it
// arrived, so it is up.
func (o *Overlay) heardFrom(addr string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id, ok := o.unreachable[addr]; ok {
		delete(o.unreachable, addr)
		delete(o.suspect, id)
	}
}
