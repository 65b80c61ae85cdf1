package overlay

import (
	"errors"
	"io"
	"slices"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/store"
)

// Guards. A node that picks the first relay of every path at random shows
// its address, over time, to every relay; with a guard only one relay ever
// sees it (Tor's entry guards, Loopix's providers). Configured guards
// (Config.Guards) are used as given. Otherwise, with Config.AutoGuard, the
// node picks one relay it shares a link with, keeps it across restarts
// (store meta guardKey) and replaces it only when it is down or gone.
const guardKey = "overlay/guard"

// loadGuard reads the persisted automatic guard.
func (o *Overlay) loadGuard() error {
	b, err := o.cfg.Store.Get(guardKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	o.auto = node.ID(b)
	return nil
}

// guardIDs returns the guards in force. With dir set, the automatic guard
// is checked against it (known, current mix key, not suspected) and
// replaced when it fails; with dir nil, the current one is returned as is.
func (o *Overlay) guardIDs(dir map[node.ID]relayInfo) []node.ID {
	if len(o.cfg.Guards) > 0 || !o.cfg.AutoGuard {
		return o.cfg.Guards
	}
	now := o.clock.Now()
	o.mu.Lock()
	cur := o.auto
	sus := o.suspects(now)
	o.mu.Unlock()
	if dir == nil {
		if cur == "" {
			return nil
		}
		return []node.ID{cur}
	}
	// A guard that shares no network with any other relay (a node hanging
	// off this one by a private link) is a dead end: every path through
	// it fails. Such relays are guards only when nothing else is.
	perLabel := map[string]int{}
	for _, r := range dir {
		for _, l := range r.cand.Networks {
			perLabel[l]++
		}
	}
	onward := func(id node.ID) bool {
		for _, l := range dir[id].cand.Networks {
			if perLabel[l] > 1 {
				return true
			}
		}
		return false
	}
	mine := o.selfLabels()
	var cands, onwardCands []node.ID
	for id, r := range dir {
		if slices.Contains(sus, id) || (mine != nil && !overlap(mine, r.cand.Networks)) {
			continue
		}
		cands = append(cands, id)
		if onward(id) {
			onwardCands = append(onwardCands, id)
		}
	}
	if len(onwardCands) > 0 {
		cands = onwardCands
	}
	if _, ok := dir[cur]; ok && !slices.Contains(sus, cur) && (onward(cur) || len(onwardCands) == 0) {
		return []node.ID{cur}
	}
	if len(cands) == 0 {
		if cur == "" {
			return nil
		}
		return []node.ID{cur} // nothing better: keep it
	}
	slices.Sort(cands)
	var b [2]byte
	_, _ = io.ReadFull(o.rand, b[:])
	pick := cands[(int(b[0])<<8|int(b[1]))%len(cands)]
	o.mu.Lock()
	o.auto = pick
	o.mu.Unlock()
	if err := o.cfg.Store.Put(guardKey, []byte(pick)); err != nil {
		o.log.Warn("guard not persisted", "error", err)
	}
	switch _, known := dir[cur]; {
	case cur == "":
		o.log.Info("guard chosen", "guard", pick.Short())
	case known && !slices.Contains(sus, cur):
		o.log.Info("guard replaced: the previous one reaches no other relay", "guard", pick.Short(), "previous", cur.Short())
	default:
		o.log.Info("guard replaced: the previous one is down or gone", "guard", pick.Short(), "previous", cur.Short())
	}
	return []node.ID{pick}
}
