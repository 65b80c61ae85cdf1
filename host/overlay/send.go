package overlay

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/lease"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/router"
)

// readyNetworks are the labels (links.go) links of a path may use: p's
// networks, or every network the relays are on, that are ready here.
func (o *Overlay) readyNetworks(dir map[node.ID]relayInfo, p Params) []string {
	var labels []string
	for _, r := range dir {
		for _, n := range r.cand.Networks {
			if !slices.Contains(labels, n) {
				labels = append(labels, n)
			}
		}
	}
	slices.Sort(labels)
	nets := labels
	if len(p.Networks) > 0 {
		nets = expandNetworks(p.Networks, labels)
	}
	var out []string
	for _, n := range nets {
		if o.cfg.Net.Ready(labelNetwork(n)) {
			out = append(out, n)
		}
	}
	return out
}

// senderNetworks are the labels this node can send on: its own, or, when
// the host did not say, every allowed one.
func (o *Overlay) senderNetworks(nets []string) []string {
	if mine := o.selfLabels(); mine != nil {
		return mine
	}
	return nets
}

func candidates(dir map[node.ID]relayInfo, drop ...node.ID) []router.Candidate {
	out := make([]router.Candidate, 0, len(dir))
	for id, r := range dir {
		if !slices.Contains(drop, id) {
			out = append(out, r.cand)
		}
	}
	slices.SortFunc(out, func(a, b router.Candidate) int { return compareIDs(a.ID, b.ID) })
	return out
}

func compareIDs(a, b node.ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// guard picks one of the configured guards usable now, or nil.
func (o *Overlay) guard(dir map[node.ID]relayInfo, exclude []node.ID) (*router.Candidate, error) {
	guards := o.guardIDs(dir)
	if len(guards) == 0 {
		return nil, nil
	}
	var usable []router.Candidate
	for _, g := range guards {
		if r, ok := dir[g]; ok && !slices.Contains(exclude, g) {
			usable = append(usable, r.cand)
		}
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("%w: none of the %d guards is known with a current mix key", router.ErrNoPath, len(guards))
	}
	var b [1]byte
	_, _ = io.ReadFull(o.rand, b[:])
	g := usable[int(b[0])%len(usable)]
	return &g, nil
}

// path chooses relays for a packet: hops relays, then end when set. The
// first relay is a guard when guards are configured.
func (o *Overlay) path(dir map[node.ID]relayInfo, hops int, end *router.Candidate, p Params, exclude []node.ID) ([]router.Candidate, error) {
	nets := o.readyNetworks(dir, p)
	if len(nets) == 0 {
		return nil, fmt.Errorf("%w: no network of %v is ready here", router.ErrNoPath, p.Networks)
	}
	total := hops
	if end != nil {
		total++
	}
	if total < 1 || total > onion.MaxHops {
		return nil, fmt.Errorf("%w: %d hops, want 1..%d", router.ErrNoPath, total, onion.MaxHops)
	}
	g, err := o.guard(dir, exclude)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return router.SelectPath(o.rand, candidates(dir), router.PathRequest{Hops: total, Networks: nets,
			SenderNetworks: o.senderNetworks(nets), End: end, Exclude: exclude})
	}
	if end != nil && end.ID == g.ID {
		return []router.Candidate{*g}, nil
	}
	if total == 1 {
		if end != nil {
			total = 2 // the guard, then the end
		} else {
			return []router.Candidate{*g}, nil
		}
	}
	rest, err := router.SelectPath(o.rand, candidates(dir, g.ID), router.PathRequest{Hops: total - 1, Networks: nets,
		SenderNetworks: g.Networks, SenderGroups: g.Groups, End: end, Exclude: append(slices.Clone(exclude), g.ID)})
	if err != nil {
		return nil, err
	}
	return append([]router.Candidate{*g}, rest...), nil
}

// sendPath wraps payload for path and sends it to the first hop.
func (o *Overlay) sendPath(ctx context.Context, path []router.Candidate, p Params, payload []byte) error {
	r := o.mathRand()
	hops := make([]onion.Hop, len(path))
	for i, c := range path {
		h, err := c.Hop(p.delay(r))
		if err != nil {
			return fmt.Errorf("overlay: %w", err)
		}
		hops[i] = h
	}
	pkt, err := onion.NewPacket(o.rand, hops, payload)
	if err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	return o.sendTo(ctx, path[0].ID, pkt)
}

// newMessageID draws a fresh message id.
func (o *Overlay) newMessageID() ([msgIDSize]byte, error) {
	var id [msgIDSize]byte
	_, err := io.ReadFull(o.rand, id[:])
	return id, err
}

// replyBlocks makes n reply blocks that end at this node: each goes from a
// random relay through the guard (when set) to here.
func (o *Overlay) replyBlocks(dir map[node.ID]relayInfo, n int, first *router.Candidate, lease bool, ttl time.Duration, peer node.ID, fwd *forwardPath) ([]*onion.SURB, error) {
	self, err := o.selfHop()
	if err != nil {
		return nil, err
	}
	nets := o.readyNetworks(dir, Params{})
	o.mu.Lock()
	sus := o.suspects(o.clock.Now())
	o.mu.Unlock()
	// Suspected relays stay out of reply routes while enough others remain.
	if len(dir)-len(sus) >= 3 {
		live := make(map[node.ID]relayInfo, len(dir))
		for id, r := range dir {
			if !slices.Contains(sus, id) {
				live[id] = r
			}
		}
		dir = live
	}
	out := make([]*onion.SURB, 0, n)
	for range n {
		var route []router.Candidate
		g, err := o.guard(dir, nil)
		if err != nil {
			return nil, err
		}
		// Routes are found outward from this node and reversed, so that
		// each relay can reach the next and the last one reaches this node.
		// They are two relays long where the directory allows; in a
		// neighbourhood of one or two relays (a 1DN mesh) they shrink
		// rather than fail: the block still hides this node from whoever
		// uses it.
		here := o.senderNetworks(nets)
		switch {
		case g != nil && first != nil && first.ID == g.ID:
			route = []router.Candidate{*g}
		case g != nil && first != nil:
			route = []router.Candidate{*first, *g}
		case g != nil:
			mid, err := router.SelectPath(o.rand, candidates(dir, g.ID), router.PathRequest{Hops: 1, Networks: nets,
				SenderNetworks: g.Networks, SenderGroups: g.Groups, Exclude: []node.ID{g.ID}})
			if err != nil {
				mid = nil
			}
			route = append(mid, *g)
		case first != nil:
			out, err := router.SelectPath(o.rand, candidates(dir), router.PathRequest{Hops: 2, Networks: nets,
				SenderNetworks: here, End: first})
			if err != nil {
				out, err = router.SelectPath(o.rand, candidates(dir), router.PathRequest{Hops: 1, Networks: nets,
					SenderNetworks: here, End: first})
			}
			if err != nil {
				return nil, fmt.Errorf("overlay: reply route from gateway %s: %w", first.ID.Short(), err)
			}
			route = reversed(out)
		default:
			out, err := router.SelectPath(o.rand, candidates(dir), router.PathRequest{Hops: 2, Networks: nets, SenderNetworks: here})
			if err != nil {
				out, err = router.SelectPath(o.rand, candidates(dir), router.PathRequest{Hops: 1, Networks: nets, SenderNetworks: here})
			}
			if err != nil {
				return nil, err
			}
			route = reversed(out)
		}
		hops := make([]onion.Hop, 0, len(route)+1)
		for _, c := range route {
			h, err := c.Hop(0)
			if err != nil {
				return nil, fmt.Errorf("overlay: %w", err)
			}
			hops = append(hops, h)
		}
		hops = append(hops, self)
		s, keys, err := onion.NewSURB(o.rand, hops)
		if err != nil {
			return nil, fmt.Errorf("overlay: reply block: %w", err)
		}
		o.mu.Lock()
		ids := make([]node.ID, len(route))
		for i, c := range route {
			ids[i] = c.ID
		}
		e := surbEntry{keys: keys, expires: o.clock.Now().Add(ttl + surbGrace), lease: lease, peer: peer, route: ids, fwd: fwd}
		o.surbKeys[keys.ID] = e
		o.mu.Unlock()
		if o.replies != nil {
			if err := o.replies.save(e); err != nil {
				// The block still works while this process runs.
				o.log.Warn("reply key not kept across restarts", "error", err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func reversed(c []router.Candidate) []router.Candidate {
	out := slices.Clone(c)
	slices.Reverse(out)
	return out
}

// selfHop is this node as the last hop of a reply block.
func (o *Overlay) selfHop() (onion.Hop, error) {
	k, err := o.ring.Get(o.cfg.Schedule.Epoch(o.clock.Now()))
	if err != nil {
		return onion.Hop{}, fmt.Errorf("overlay: no current mix key: %w", err)
	}
	h := onion.Hop{Key: k.Public()}
	copy(h.ID[:], o.cfg.Identity.SigningKey())
	return h, nil
}

// sendMessage fragments msg and sends each fragment over one of surbs
// (through this node's own path to the block's first hop).
func (o *Overlay) sendViaSURBs(ctx context.Context, dir map[node.ID]relayInfo, msg []byte, take func() *onion.SURB, p Params, avoid []node.ID, flexible bool) ([]node.ID, error) {
	var used []node.ID
	id, err := o.newMessageID()
	if err != nil {
		return nil, err
	}
	frags, err := fragmentMessage(id, msg)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, f := range frags {
		s := take()
		if s == nil {
			return used, fmt.Errorf("%w: reply blocks ran out after %d of %d fragments", ErrNoLease, len(errs), len(frags))
		}
		payload, err := gatewayPayload(s, f)
		if err != nil {
			return used, err
		}
		gw := node.IDFromKey(s.FirstHop[:])
		if gw == o.cfg.Identity.ID() {
			// This node is the gateway: fill the block and relay it.
			pkt, err := onion.PacketFromSURB(s, f)
			if err == nil {
				err = o.processLocal(ctx, pkt)
			}
			errs = append(errs, err)
			continue
		}
		r, ok := dir[gw]
		if !ok {
			errs = append(errs, fmt.Errorf("%w: gateway %s is not a known relay", router.ErrNoPath, gw.Short()))
			continue
		}
		end := r.cand
		path, err := o.pathAvoiding(dir, p.Hops, &end, p, avoid)
		// Acknowledgements and lease replies take shorter paths when the
		// directory is too small for p.Hops (a 1DN mesh of a few nodes).
		for h := p.Hops - 1; err != nil && flexible && h >= 0; h-- {
			path, err = o.pathAvoiding(dir, h, &end, p, avoid)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range path {
			if !slices.Contains(o.guardIDs(nil), c.ID) {
				used = append(used, c.ID)
			}
		}
		errs = append(errs, o.sendPath(ctx, path, p, payload))
	}
	return used, errors.Join(errs...)
}

// pathAvoiding is path leaving out avoid and the suspected relays when a
// path exists without them, and path without exclusions otherwise.
func (o *Overlay) pathAvoiding(dir map[node.ID]relayInfo, hops int, end *router.Candidate, p Params, avoid []node.ID) ([]router.Candidate, error) {
	o.mu.Lock()
	avoid = append(slices.Clone(avoid), o.suspects(o.clock.Now())...)
	o.mu.Unlock()
	if end != nil {
		avoid = slices.DeleteFunc(avoid, func(id node.ID) bool { return id == end.ID })
	}
	if len(avoid) > 0 {
		if path, err := o.path(dir, hops, end, p, avoid); err == nil {
			return path, nil
		}
	}
	return o.path(dir, hops, end, p, nil)
}

// sendDirect fragments msg and sends each fragment on a path ending at to,
// shortening the path when the directory is too small for p.Hops (it
// carries lease-set traffic, not user messages). It returns the relays it
// used before to.
func (o *Overlay) sendDirect(ctx context.Context, dir map[node.ID]relayInfo, to router.Candidate, msg []byte, p Params) ([]node.ID, error) {
	return o.sendFragments(ctx, dir, to, msg, p, nil, true)
}

// sendForward sends msg to the relay to, each fragment on its own path of
// p.Hops relays, avoiding avoid where the directory allows.
func (o *Overlay) sendForward(ctx context.Context, dir map[node.ID]relayInfo, to router.Candidate, msg []byte, p Params, avoid []node.ID) ([]node.ID, error) {
	return o.sendFragments(ctx, dir, to, msg, p, avoid, false)
}

// sendFragments fragments msg and sends each fragment on its own path of
// p.Hops relays ending at to, avoiding avoid where the directory allows;
// with shorten, on a shorter path when the directory is too small for
// p.Hops (lease publications and lookups in a 1DN mesh). It returns the
// relays it used before to.
func (o *Overlay) sendFragments(ctx context.Context, dir map[node.ID]relayInfo, to router.Candidate, msg []byte, p Params, avoid []node.ID, shorten bool) ([]node.ID, error) {
	id, err := o.newMessageID()
	if err != nil {
		return nil, err
	}
	frags, err := fragmentMessage(id, msg)
	if err != nil {
		return nil, err
	}
	var used []node.ID
	for _, f := range frags {
		path, err := o.pathAvoiding(dir, p.Hops, &to, p, avoid)
		for h := p.Hops - 1; shorten && err != nil && h >= 0; h-- {
			path, err = o.pathAvoiding(dir, h, &to, p, avoid)
		}
		if err != nil {
			return used, err
		}
		for _, c := range path[:len(path)-1] {
			used = append(used, c.ID)
		}
		if err := o.sendPath(ctx, path, p, f); err != nil {
			return used, err
		}
	}
	return used, nil
}

// Send carries a sealed courier packet to addr: a reply handle (IsHandle)
// or a node id. A relay (a node in the directory) is reached over forward
// paths ending at it; another node through reply blocks it gave this node
// or through its lease set, and without either Send starts a lookup and
// returns an error wrapping ErrNoLease.
func (o *Overlay) Send(ctx context.Context, addr string, sealed []byte, p Params) error {
	now := o.clock.Now()
	dir, err := o.directory(now)
	if err != nil {
		return err
	}
	// A retransmission (the courier sends the same sealed bytes again)
	// avoids the relays and gateways of the earlier attempts.
	key := sha256.Sum256(sealed)
	o.mu.Lock()
	avoid := slices.Clone(o.attempts[key].relays)
	peer := o.poolOwner(addr)
	o.mu.Unlock()
	// Every message carries reply blocks back here: a message to a node
	// id, for its answer and acknowledgement; an acknowledgement on a
	// reply handle, so that the conversation can go on without lease sets.
	n := replySURBs
	switch {
	case IsHandle(addr):
		n = ackSURBs
	case p.Replies > 0:
		n = min(p.Replies, MaxReplies)
	}
	// A relay's address is public (its record carries it for paths):
	// a message to a relay takes forward paths that end at it, spending no
	// reply blocks. Other nodes are reached through reply blocks they gave
	// this node or through their lease sets.
	relay, isRelay := dir[node.ID(addr)]
	isRelay = isRelay && !IsHandle(addr)
	var take func() *onion.SURB
	if !isRelay {
		size := 2 + n*onion.SURBSize + len(sealed) // dataMsg.encode
		if take, err = o.surbSource(ctx, addr, (size+ChunkSize-1)/ChunkSize, avoid); err != nil {
			return err
		}
	}
	fwd := new(forwardPath)
	surbs, err := o.replyBlocks(dir, n, nil, false, poolTTL, peer, fwd)
	if err != nil {
		return err
	}
	msg, err := dataMsg{surbs: surbs, sealed: sealed}.encode()
	if err != nil {
		return err
	}
	var used []node.ID
	if isRelay {
		used, err = o.sendForward(ctx, dir, relay.cand, msg, p, avoid)
	} else {
		used, err = o.sendViaSURBs(ctx, dir, msg, take, p, avoid, IsHandle(addr))
	}
	o.mu.Lock()
	fwd.relays = used
	a := o.attempts[key]
	if a.relays == nil && len(o.attempts) >= maxAttempts {
		clear(o.attempts) // crude bound; retransmissions then merely lose their memory
	}
	o.attempts[key] = attempt{relays: append(a.relays, used...), expires: now.Add(poolTTL)}
	o.mu.Unlock()
	return err
}

// poolOwner is the node a reply handle's pool is bound to, or the node id
// addr itself. Call with mu held.
func (o *Overlay) poolOwner(addr string) node.ID {
	if !IsHandle(addr) {
		return node.ID(addr)
	}
	for id, hs := range o.owners {
		if slices.Contains(hs, addr) {
			return id
		}
	}
	return ""
}

// surbSource returns a function handing out need reply blocks to addr, or
// ErrNoLease.
func (o *Overlay) surbSource(ctx context.Context, addr string, need int, avoid []node.ID) (func() *onion.SURB, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// Blocks through relays that seem down go last.
	avoid = append(slices.Clone(avoid), o.suspects(o.clock.Now())...)
	var picked []*onion.SURB
	takePool := func(h string) {
		p := o.pools[h]
		if p == nil {
			return
		}
		p.surbs = preferFirstHops(p.surbs, avoid)
		for len(p.surbs) > 0 && len(picked) < need {
			picked = append(picked, p.surbs[0])
			p.surbs = p.surbs[1:]
		}
	}
	var id node.ID
	if IsHandle(addr) {
		takePool(addr)
	} else {
		id = node.ID(addr)
		for _, h := range o.owners[id] {
			takePool(h)
		}
		if k := o.known[id]; k != nil && len(picked) < need && !k.set.Expired(o.clock.Now()) {
			// The leases' reply blocks, round robin over gateways; each
			// is used once (a relay drops a second use as a replay).
			k.surbs = preferFirstHops(k.surbs, avoid)
			for len(k.surbs) > 0 && len(picked) < need {
				picked = append(picked, k.surbs[0])
				o.used[surbKey(k.surbs[0])] = k.set.Expires
				k.surbs = k.surbs[1:]
			}
		}
	}
	if len(picked) < need {
		if id != "" && !o.resolving[id] && o.life.Err() == nil {
			o.resolving[id] = true
			o.bg.Go(func() { o.lookupAsync(id) })
		}
		return nil, fmt.Errorf("%w: %s: %d of %d reply blocks", ErrNoLease, addr, len(picked), need)
	}
	return func() *onion.SURB {
		if len(picked) == 0 {
			return nil
		}
		s := picked[0]
		picked = picked[1:]
		return s
	}, nil
}

// preferFirstHops orders surbs so that those whose first hop is in avoid
// come last (stable otherwise).
func preferFirstHops(surbs []*onion.SURB, avoid []node.ID) []*onion.SURB {
	if len(avoid) == 0 {
		return surbs
	}
	bad := func(s *onion.SURB) bool { return slices.Contains(avoid, node.IDFromKey(s.FirstHop[:])) }
	out := make([]*onion.SURB, 0, len(surbs))
	for _, s := range surbs {
		if !bad(s) {
			out = append(out, s)
		}
	}
	for _, s := range surbs {
		if bad(s) {
			out = append(out, s)
		}
	}
	return out
}

// surbKey names a reply block for the used set.
func surbKey(s *onion.SURB) [32]byte { return sha256.Sum256(s.Header[:]) }

// failedLookupTTL is how long a lookup that found nothing counts against
// routing to that node over onion paths.
const failedLookupTTL = 5 * time.Second

// CanRoute reports whether a message to id could go over onion paths with
// p: enough relays are known, and reply blocks to id are at hand or a
// lookup may still find its lease set. The error says what is missing.
func (o *Overlay) CanRoute(id node.ID, p Params) error {
	now := o.clock.Now()
	dir, err := o.directory(now)
	if err != nil {
		return err
	}
	_, isRelay := dir[id]
	delete(dir, id)
	relays := 0
	for _, r := range dir {
		for _, n := range r.cand.Networks {
			if (len(p.Networks) == 0 || slices.Contains(p.Networks, labelNetwork(n))) && o.cfg.Net.Ready(labelNetwork(n)) {
				relays++
				break
			}
		}
	}
	if need := p.Hops + 1; relays < need {
		return fmt.Errorf("%w: %d hops need %d relays with current mix keys on %v, %d known", ErrNoPath, p.Hops, need, p.Networks, relays)
	}
	if isRelay {
		return nil // forward paths end at it (Send)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.owners[id]) > 0 {
		return nil
	}
	if k := o.known[id]; k != nil && len(k.surbs) > 0 && !k.set.Expired(now) {
		return nil
	}
	if t, ok := o.failed[id]; ok && now.Sub(t) < failedLookupTTL {
		return fmt.Errorf("%w: the lookup of %s found no lease set %s ago", ErrNoLease, id.Short(), now.Sub(t).Round(time.Second))
	}
	return nil
}

// lookupAsync resolves id in the background and reports it.
func (o *Overlay) lookupAsync(id node.ID) {
	ctx, cancel := context.WithTimeout(o.life, lookupWait)
	defer cancel()
	defer func() {
		o.mu.Lock()
		delete(o.resolving, id)
		o.mu.Unlock()
	}()
	if _, err := o.Resolve(ctx, id); err != nil {
		o.log.Debug("lease lookup", "id", id.Short(), "error", err)
		o.mu.Lock()
		o.failed[id] = o.clock.Now()
		o.mu.Unlock()
	}
}

// Resolve finds id's lease set: it asks the nodes closest to id's blinded
// storage key for this period (each query on its own path, the answer on
// reply blocks), opens the envelope, stores the owner's bare record as a
// peer and returns it. Storers without the set name the peers they know
// closest to the key; Resolve walks towards the key with them, up to
// lookupRounds rounds, as a Kademlia lookup does, so a node whose view of
// the network differs from the publisher's still finds the storers.
func (o *Overlay) Resolve(ctx context.Context, id node.ID) (*node.Record, error) {
	now := o.clock.Now()
	key, err := lease.StorageKey(id, lease.Period(now))
	if err != nil {
		return nil, fmt.Errorf("overlay: resolve: %w", err)
	}
	keyID := lease.StorageID(key)
	asked := map[node.ID]bool{}
	answered, stale := 0, 0
	var errs []error
	for round := 0; round < lookupRounds; round++ {
		dir, err := o.directory(o.clock.Now())
		if err != nil {
			return nil, err
		}
		// The storers closest to the key among every node known now (the
		// walk adds those the answers name); ask those not asked yet. The
		// walk ends when the closest known have all been asked.
		// The owner is left out: it stores its set at others, never at
		// itself (its own directory does not list it).
		ids := make([]node.ID, 0, len(dir))
		for k := range dir {
			if k != id {
				ids = append(ids, k)
			}
		}
		var targets []node.ID
		for _, k := range lease.Closest(keyID, ids, storers) {
			if !asked[k] {
				targets = append(targets, k)
			}
		}
		if len(targets) == 0 {
			break
		}
		for _, t := range targets {
			asked[t] = true
		}
		r, err := o.askRound(ctx, dir, id, key, targets)
		if r.found != nil {
			return r.found, nil
		}
		if err != nil {
			return nil, err
		}
		answered += r.answered
		stale += r.stale
		errs = append(errs, r.errs...)
		learned := o.learn(r.closer, id)
		o.log.Debug("lease lookup round", "target", id.Short(), "round", round+1, "asked", len(targets), "answered", r.answered, "learned", learned)
	}
	switch {
	case len(asked) == 0:
		return nil, fmt.Errorf("%w: no relay known to ask for %s", router.ErrNoPath, id.Short())
	case stale > 0:
		return nil, fmt.Errorf("%w: %s: the lease sets found have only blocks this node used up; its owner republishes soon", ErrNoLease, id.Short())
	case answered == 0 && len(errs) > 0:
		return nil, fmt.Errorf("overlay: resolve %s: %w", id.Short(), errors.Join(errs...))
	}
	return nil, fmt.Errorf("%w: none of the %d nodes asked (%d answered) knows the lease set of %s (is it running, and does it publish one?)", ErrNoLease, len(asked), answered, id.Short())
}

// lookupRounds bounds a lease lookup's walk.
const lookupRounds = 4

// roundResult is what one round of queries brought.
type roundResult struct {
	found           *node.Record
	answered, stale int
	closer          [][]byte
	errs            []error
}

// askRound queries targets for the envelope under key and waits for their
// answers, at most lookupWait (the caller's ctx bounds it too).
func (o *Overlay) askRound(ctx context.Context, dir map[node.ID]relayInfo, id node.ID, key [32]byte, targets []node.ID) (roundResult, error) {
	var r roundResult
	var nb [8]byte
	_, _ = io.ReadFull(o.rand, nb[:])
	nonce := binary.BigEndian.Uint64(nb[:])
	done := make(chan leaseMsg, len(targets))
	misses := make(chan miss, len(targets))
	o.mu.Lock()
	o.lookups[nonce] = lookup{target: id, done: done, miss: misses}
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		delete(o.lookups, nonce)
		o.mu.Unlock()
	}()
	q := queryMsg{nonce: nonce, target: key}
	sent := 0
	for _, t := range targets {
		fwd := new(forwardPath)
		surbs, err := o.replyBlocks(dir, querySURBs, nil, false, lookupWait, "", fwd)
		if err != nil {
			return r, err
		}
		q.surbs = surbs
		msg, err := q.encode()
		if err != nil {
			return r, err
		}
		relays, err := o.sendDirect(ctx, dir, dir[t].cand, msg, Params{Hops: 2})
		o.mu.Lock()
		fwd.relays = relays
		o.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err)
			continue
		}
		sent++
	}
	wait := time.NewTimer(lookupWait)
	defer wait.Stop()
	for r.answered < sent {
		select {
		case l := <-done:
			rec, err := node.DecodeRecord(l.record)
			if err != nil {
				return r, err
			}
			r.found = rec
			return r, nil
		case m := <-misses:
			r.answered++
			if m.used {
				r.stale++
			}
			r.closer = append(r.closer, m.closer...)
		case <-wait.C:
			return r, nil // go on with the answers that came
		case <-ctx.Done():
			return r, fmt.Errorf("overlay: resolve %s: no lease set from %d nodes asked: %w", id.Short(), len(targets), ctx.Err())
		}
	}
	return r, nil
}

// learn stores the peer records a lookup brought that verify, can be
// reached from anywhere and are newer than what this node has; it returns
// how many it stored. A record of the lookup's target is left out: its
// lease set is what tells its keys.
func (o *Overlay) learn(records [][]byte, target node.ID) int {
	n := 0
	self := o.cfg.Identity.ID()
	for _, raw := range records {
		rec, err := node.DecodeRecord(raw)
		if err != nil || rec.ID == self || rec.ID == target || !wideReachable(rec) {
			continue
		}
		if old, err := o.cfg.Store.Peer(string(rec.ID)); err == nil {
			if prev, err := node.DecodeRecord(old); err == nil && !rec.Issued.After(prev.Issued) {
				continue
			}
		}
		if err := o.cfg.Store.PutPeer(string(rec.ID), raw); err != nil {
			o.log.Warn("store a peer record a lookup brought", "peer", rec.ID.Short(), "error", err)
			continue
		}
		n++
	}
	return n
}

// closerRecords are the records of the relays this node knows closest to
// key, for a not-found answer. Relays reachable only over a local link
// are left out: the asker may be elsewhere, and their link addresses are
// for their neighbours only (a node hidden behind one would be revealed).
func (o *Overlay) closerRecords(dir map[node.ID]relayInfo, key [32]byte) [][]byte {
	ids := make([]node.ID, 0, len(dir))
	for k, r := range dir {
		if wideReachable(r.rec) {
			ids = append(ids, k)
		}
	}
	var out [][]byte
	for _, id := range lease.Closest(lease.StorageID(key), ids, storers) {
		if raw, err := o.cfg.Store.Peer(string(id)); err == nil && len(raw) <= 0xffff {
			out = append(out, raw)
		}
	}
	return out
}

// wideReachable reports whether rec has an address on a network that is
// not link-scoped.
func wideReachable(rec *node.Record) bool {
	for n, as := range rec.Addresses {
		if len(as) > 0 && !slices.Contains(linkScoped, n) {
			return true
		}
	}
	return false
}
