package overlay

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/lease"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/relay"
	"github.com/onemfive/onemfive/host/router"
)

// deliverer takes payloads whose path ended here.
type deliverer struct{ o *Overlay }

func (d deliverer) Deliver(ctx context.Context, dl relay.Delivery) error {
	o := d.o
	payload := dl.Payload
	var peer node.ID // who was given the reply block this came on, if known
	if dl.Kind == onion.KindDeliverSURB {
		o.mu.Lock()
		e, ok := o.surbKeys[dl.SURBID]
		if ok {
			delete(o.surbKeys, dl.SURBID)
			if e.lease && o.mine != nil {
				o.mine.used++
			}
			// The reply came back: its route worked, and so did the path
			// of the message that carried the block.
			o.credit(e.route)
			if e.fwd != nil {
				o.credit(e.fwd.relays)
			}
		}
		o.mu.Unlock()
		if o.replies != nil {
			// Used now: gone from the store too. A block made before a
			// restart is only there.
			se, err := o.replies.take(dl.SURBID, o.clock.Now())
			if !ok && err == nil {
				e, ok = se, true
				o.mu.Lock()
				o.credit(e.route)
				o.mu.Unlock()
			}
		}
		if !ok {
			return fmt.Errorf("%w: reply on unknown or used reply block %x", ErrMalformed, dl.SURBID[:4])
		}
		peer = e.peer
		var err error
		if payload, err = e.keys.Open(payload); err != nil {
			return fmt.Errorf("%w: reply: %w", ErrMalformed, err)
		}
	}
	if len(payload) == 0 {
		return fmt.Errorf("%w: empty payload", ErrMalformed)
	}
	switch payload[0] {
	case payloadLoop:
		if dl.Kind != onion.KindDeliver {
			return fmt.Errorf("%w: loop payload on a reply block", ErrMalformed)
		}
		return o.loopBack(payload)
	case payloadGateway:
		if dl.Kind != onion.KindDeliver {
			return fmt.Errorf("%w: gateway payload on a reply block", ErrMalformed)
		}
		s, inner, err := decodeGateway(payload)
		if err != nil {
			return err
		}
		if node.IDFromKey(s.FirstHop[:]) != o.cfg.Identity.ID() {
			return fmt.Errorf("%w: gateway payload for a reply block starting at %s", ErrMalformed, node.IDFromKey(s.FirstHop[:]).Short())
		}
		pkt, err := onion.PacketFromSURB(s, inner)
		if err != nil {
			return fmt.Errorf("%w: gateway: %w", ErrMalformed, err)
		}
		o.observe(map[string]any{"event": "gateway"})
		return o.processLocal(ctx, pkt)
	case payloadFragment:
		f, err := decodeFragment(payload)
		if err != nil {
			return err
		}
		o.mu.Lock()
		msg := o.reasm.add(f, o.clock.Now())
		o.mu.Unlock()
		if msg == nil {
			return nil
		}
		return o.handleMessage(ctx, msg, peer)
	}
	return fmt.Errorf("%w: payload type %d", ErrMalformed, payload[0])
}

// processLocal runs a packet this node made for itself as first hop (a
// gateway filling a reply block) through its own relay.
func (o *Overlay) processLocal(ctx context.Context, pkt []byte) error {
	return o.proc.Process(ctx, relay.Incoming{Network: "local", From: "self", Packet: pkt})
}

// handleMessage acts on a reassembled message. peer is the node it came
// from when it arrived on a reply block given to that node.
func (o *Overlay) handleMessage(ctx context.Context, b []byte, peer node.ID) error {
	m, err := decodeMessage(b)
	if err != nil {
		return err
	}
	now := o.clock.Now()
	switch {
	case m.data != nil:
		handle := ""
		if len(m.data.surbs) > 0 {
			var hb [12]byte
			_, _ = o.rand.Read(hb[:])
			handle = handlePrefix + hex.EncodeToString(hb[:])
			o.mu.Lock()
			if len(o.pools) < maxPools {
				o.pools[handle] = &surbPool{surbs: m.data.surbs, expires: now.Add(poolTTL)}
				if peer != "" {
					o.owners[peer] = append(o.owners[peer], handle)
				}
			}
			o.mu.Unlock()
		}
		return o.cfg.Deliver(ctx, handle, m.data.sealed)
	case m.store != nil:
		// The envelope names only a blinded key: this node checks the
		// signature by that key and keeps it, without learning whose it is.
		st, err := lease.DecodeStored(bytes.Clone(m.store)) // kept: not the reassembly buffer
		if err != nil {
			return fmt.Errorf("%w: lease store: %w", ErrMalformed, err)
		}
		if !st.Current(now) {
			return fmt.Errorf("%w: lease store: envelope for period %d, valid %s to %s, not current", ErrMalformed,
				st.Period, st.Issued.UTC().Format(time.RFC3339), st.Expires.UTC().Format(time.RFC3339))
		}
		o.mu.Lock()
		old, had := o.stored[st.Key]
		keep := (len(o.stored) < maxStored || had) && (!had || st.Supersedes(old))
		if keep {
			o.stored[st.Key] = st
		}
		o.mu.Unlock()
		o.observe(map[string]any{"event": "lease_stored", "key": hex.EncodeToString(st.Key[:])})
		return nil
	case m.query != nil:
		o.mu.Lock()
		st, ok := o.stored[m.query.target]
		o.mu.Unlock()
		ok = ok && st.Current(now)
		o.observe(map[string]any{"event": "lease_query", "key": hex.EncodeToString(m.query.target[:]), "found": ok})
		dir, err := o.directory(now)
		if err != nil {
			return err
		}
		r := replyMsg{nonce: m.query.nonce, found: ok}
		if ok {
			r.env = st.Bytes()
		} else {
			r.closer = o.closerRecords(dir, m.query.target)
		}
		reply, err := r.encode()
		if err != nil {
			return err
		}
		surbs := m.query.surbs
		_, err = o.sendViaSURBs(ctx, dir, reply, func() *onion.SURB {
			if len(surbs) == 0 {
				return nil
			}
			s := surbs[0]
			surbs = surbs[1:]
			return s
		}, Params{Hops: 0}, nil, true) // a storer is a public relay: its own address is no secret
		return err
	case m.reply != nil:
		o.mu.Lock()
		lk, ok := o.lookups[m.reply.nonce]
		o.mu.Unlock()
		if !ok {
			return nil
		}
		if !m.reply.found {
			select {
			case lk.miss <- miss{closer: m.reply.closer}:
			default:
			}
			return nil
		}
		inner, err := openLease(m.reply.env, lk.target, now)
		if err != nil {
			return err
		}
		rec, set, err := verifyLease(inner, lk.target, now)
		if err != nil {
			return err
		}
		if _, err := o.cfg.Store.Peer(string(rec.ID)); err != nil {
			// A node seen only through its lease set: keys, no addresses.
			if err := o.cfg.Store.PutPeer(string(rec.ID), inner.record); err != nil {
				return fmt.Errorf("overlay: store %s: %w", rec.ID.Short(), err)
			}
		}
		// The gateways' records, for paths to gateways this node never met;
		// only records of the set's own gateways are taken.
		var gwRecs [][]byte
		for _, g := range inner.gateways {
			if r, err := node.DecodeRecord(g); err == nil && slices.ContainsFunc(set.Leases, func(l lease.Lease) bool { return l.GatewayID() == r.ID }) {
				gwRecs = append(gwRecs, g)
			}
		}
		o.learn(gwRecs, rec.ID)
		// Interleave gateways so consecutive fragments use different ones,
		// leaving out blocks this node already used.
		k := &knownLease{set: set}
		o.mu.Lock()
		for _, s := range interleave(set) {
			if _, used := o.used[surbKey(s)]; !used {
				k.surbs = append(k.surbs, s)
			}
		}
		if len(k.surbs) == 0 {
			// A set whose every block this node already used: the owner has
			// not republished yet. Another storer may have a newer one;
			// Resolve gives up once every storer said so.
			o.mu.Unlock()
			select {
			case lk.miss <- miss{used: true}:
			default:
			}
			return nil
		}
		if prev := o.known[rec.ID]; prev == nil || set.Supersedes(prev.set) || len(prev.surbs) == 0 {
			o.known[rec.ID] = k
		}
		delete(o.failed, rec.ID)
		o.mu.Unlock()
		select {
		case lk.done <- inner:
		default:
		}
		if o.cfg.Resolved != nil {
			o.cfg.Resolved(rec.ID)
		}
		return nil
	}
	return nil
}

// interleave lists a set's reply blocks round robin over its leases.
func interleave(set *lease.Set) []*onion.SURB {
	var out []*onion.SURB
	for i := 0; ; i++ {
		added := false
		for li := range set.Leases {
			if i < len(set.Leases[li].Replies) {
				out = append(out, &set.Leases[li].Replies[i])
				added = true
			}
		}
		if !added {
			return out
		}
	}
}

// openLease checks an envelope found for owner and returns the lease
// message inside.
func openLease(env []byte, owner node.ID, now time.Time) (leaseMsg, error) {
	st, err := lease.DecodeStored(env)
	if err != nil {
		return leaseMsg{}, fmt.Errorf("%w: lease reply: %w", ErrMalformed, err)
	}
	if !st.Current(now) {
		return leaseMsg{}, fmt.Errorf("%w: lease reply for %s: envelope not current", ErrMalformed, owner.Short())
	}
	plain, err := st.Open(owner)
	if err != nil {
		return leaseMsg{}, fmt.Errorf("%w: lease reply: %w", ErrMalformed, err)
	}
	return readLease(plain)
}

// verifyLease checks a lease message: the record decodes, the set is the
// record owner's, current, and (when want is set) for want.
func verifyLease(l leaseMsg, want node.ID, now time.Time) (*node.Record, *lease.Set, error) {
	rec, err := node.DecodeRecord(l.record)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: lease record: %w", ErrMalformed, err)
	}
	if want != "" && rec.ID != want {
		return nil, nil, fmt.Errorf("%w: lease for %s, asked for %s", ErrMalformed, rec.ID.Short(), want.Short())
	}
	set, err := lease.Verify(l.set, rec.ID, now)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return rec, set, nil
}

// needsPublish reports whether this node's lease set is missing, due for
// refresh, or half used.
func (o *Overlay) needsPublish(now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := o.mine
	// A set in use is refreshed every activeRefresh: senders may have burnt
	// blocks on packets that were lost, which this node cannot count.
	if m == nil || !now.Before(m.refreshAt) || 2*m.used >= m.total || (m.used > 0 && now.Sub(m.set.Issued) >= activeRefresh) {
		return true
	}
	// A gateway that seems down wastes every block through it.
	sus := o.suspects(now)
	for _, l := range m.set.Leases {
		if slices.Contains(sus, l.GatewayID()) && now.Sub(m.set.Issued) > republishMin {
			return true
		}
	}
	return false
}

// publish makes a fresh lease set (gateways, reply blocks through them to
// here) and stores it, sealed under this node's blinded key, at the nodes
// closest to that key, each over its own path.
func (o *Overlay) publish(ctx context.Context) error {
	now := o.clock.Now()
	dir, err := o.directory(now)
	if err != nil {
		return err
	}
	o.mu.Lock()
	sus := o.suspects(now)
	o.mu.Unlock()
	guards := o.guardIDs(dir)
	gws := candidates(dir, append(slices.Clone(guards), sus...)...)
	if len(gws) == 0 {
		gws = candidates(dir, guards...)
	}
	if len(gws) == 0 {
		gws = candidates(dir) // the guard is the only relay: it is the gateway too
	}
	if len(gws) == 0 {
		return fmt.Errorf("%w: no relay to be a gateway", router.ErrNoPath)
	}
	// Random gateways.
	for i := len(gws) - 1; i > 0; i-- {
		var b [1]byte
		_, _ = o.rand.Read(b[:])
		j := int(b[0]) % (i + 1)
		gws[i], gws[j] = gws[j], gws[i]
	}
	gws = gws[:min(len(gws), o.cfg.Gateways)]
	expires := now.Add(o.cfg.LeaseLifetime)
	var leases []lease.Lease
	for _, g := range gws {
		surbs, err := o.replyBlocks(dir, o.cfg.RepliesPerLease, &g, true, o.cfg.LeaseLifetime, "", nil)
		if err != nil {
			return err
		}
		l := lease.Lease{}
		_, pub, _ := node.ParseID(string(g.ID))
		copy(l.Gateway[:], pub)
		for _, s := range surbs {
			l.Replies = append(l.Replies, *s)
		}
		leases = append(leases, l)
	}
	setBytes, err := lease.Sign(o.cfg.Identity, now, expires, leases)
	if err != nil {
		return fmt.Errorf("overlay: sign lease set: %w", err)
	}
	set, err := lease.Decode(setBytes)
	if err != nil {
		return err
	}
	bare, err := o.cfg.Identity.NewRecord(nil, now)
	if err != nil {
		return err
	}
	// The gateways' records go inside, sealed with the set: a sender may
	// never have met them.
	var gwRecs [][]byte
	for _, g := range gws {
		if raw, err := o.cfg.Store.Peer(string(g.ID)); err == nil {
			gwRecs = append(gwRecs, raw)
		}
	}
	plain, err := appendLease(nil, leaseMsg{record: bare, set: setBytes, gateways: gwRecs})
	if err != nil {
		return err
	}
	ids := make([]node.ID, 0, len(dir))
	for k := range dir {
		ids = append(ids, k)
	}
	// Stored under this period's blinded key, and the next period's too
	// when the set outlives this one, each at the nodes closest to that
	// key, each over its own path.
	var errs []error
	var targets []node.ID
	for p := lease.Period(now); p <= lease.Period(expires); p++ {
		env, err := lease.Seal(o.cfg.Identity, p, now, expires, plain, o.rand)
		if err != nil {
			return fmt.Errorf("overlay: publish lease set: %w", err)
		}
		key, err := lease.StorageKey(o.cfg.Identity.ID(), p)
		if err != nil {
			return err
		}
		msg := append([]byte{msgLeaseStore}, env...)
		for _, t := range lease.Closest(lease.StorageID(key), ids, storers) {
			_, err := o.sendDirect(ctx, dir, dir[t].cand, msg, Params{Hops: 2})
			errs = append(errs, err)
			targets = append(targets, t)
		}
	}
	if err := errors.Join(errs...); err != nil && len(targets) > 0 && countNil(errs) == 0 {
		return fmt.Errorf("overlay: publish lease set: %w", err)
	}
	total := 0
	for _, l := range leases {
		total += len(l.Replies)
	}
	o.mu.Lock()
	o.mine = &ownLease{set: set, total: total, refreshAt: set.RefreshAt()}
	o.mu.Unlock()
	o.log.Info("lease set published", "gateways", len(leases), "reply_blocks", total, "stored_at", len(targets), "expires", expires.Format(time.RFC3339))
	o.observe(map[string]any{"event": "lease_published", "stored_at": idsToStrings(targets)})
	return nil
}

func countNil(errs []error) int {
	n := 0
	for _, e := range errs {
		if e == nil {
			n++
		}
	}
	return n
}

func idsToStrings(ids []node.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}
