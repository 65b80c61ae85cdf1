package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/api"
	"github.com/onemfive/onemfive/host/courier"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/seal"
	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// backend implements api.Backend on the daemon.
type backend struct{ d *Daemon }

var _ api.Backend = backend{}

func transportEvent(network string, ev transport.Event) client.TransportEvent {
	t := ev.Time
	if t.IsZero() {
		t = time.Now()
	}
	return client.TransportEvent{Time: t, Plugin: network, State: ev.State.String(), Progress: ev.Progress,
		Phase: ev.Phase, Summary: ev.Summary, Reason: ev.Reason, Peers: ev.Peers}
}

func (b backend) Status(ctx context.Context) (client.Status, error) {
	d := b.d
	snap := d.mc.Snapshot()
	st := client.Status{NodeID: string(d.id.ID()), ManCon: snap.Base.String(), EffectiveManCon: snap.Effective.String(),
		StartedAt: d.started, Version: Version, WebProxy: d.webAddr}
	for _, p := range d.sup().Status() {
		ps := client.PluginStatus{Name: p.Name, Kind: string(p.Kind), Version: p.Version, State: string(p.State),
			APIVersion: p.APIVersion, PID: p.PID, Restarts: p.Restarts, Addresses: p.Addresses}
		if p.Err != nil {
			ps.Error = p.Err.Error()
		}
		if p.LastEvent != nil {
			te := transportEvent(p.Name, *p.LastEvent)
			ps.LastEvent = &te
		}
		st.Plugins = append(st.Plugins, ps)
	}
	for _, s := range d.bus.Stats() {
		st.Stages = append(st.Stages, client.StageStatus{Name: s.Name, Submitted: s.Submitted, Processed: s.Processed,
			Failed: s.Failed, Rejected: s.Rejected, Depth: s.Depth, HighWater: s.HighWater})
	}
	n, err := d.store.OutboxLen()
	if err != nil {
		return st, err
	}
	st.Outbox = n
	st.InboxLastSeq = d.store.LastSeq()
	if d.overlay != nil {
		rs := d.overlay.Stats()
		os := &client.OnionStatus{Received: rs.Received, Forwarded: rs.Forwarded, Delivered: rs.Delivered, Held: rs.Held}
		for r, n := range rs.Dropped {
			if n > 0 {
				if os.Dropped == nil {
					os.Dropped = map[string]uint64{}
				}
				os.Dropped[r.String()] = n
			}
		}
		os.Suspects, os.LeaseExpires = d.overlay.State()
		st.Onion = os
	}
	return st, nil
}

// resolveWait bounds the lease-set lookup of a send to a node known only
// by id.
const resolveWait = 30 * time.Second

func (b backend) Send(ctx context.Context, env *envelope.Envelope) (client.SendResult, error) {
	if name, ok := localService(env); ok {
		env.From = service.LocalInbox // replies to a local application go to the inbox
		if err := b.d.dispatchService(ctx, serviceCall{name: name, env: env}); err != nil {
			return client.SendResult{}, err
		}
		return client.SendResult{ID: env.ID, Queued: true}, nil
	}
	if env.ManCon != envelope.ManConUnset {
		b.d.levels.Store(env.ID, env.ManCon)
	}
	err := b.d.courier.Send(ctx, env)
	if errors.Is(err, courier.ErrUnknownPeer) && b.d.overlay != nil {
		// Only the id is known: look for its lease set (keys and a way in
		// through gateways, never its address).
		if id, _, perr := node.ParseID(env.To); perr == nil {
			rctx, cancel := context.WithTimeout(ctx, resolveWait)
			_, rerr := b.d.overlay.Resolve(rctx, id)
			cancel()
			if rerr == nil {
				err = b.d.courier.Send(ctx, env)
			} else {
				err = fmt.Errorf("%w; no lease set found for it either: %v", err, rerr)
			}
		}
	}
	if err != nil {
		b.d.levels.Delete(env.ID)
	}
	switch {
	case err == nil:
		return client.SendResult{ID: env.ID, Queued: true}, nil
	case errors.Is(err, courier.ErrUnknownPeer):
		return client.SendResult{}, fmt.Errorf("%w: %w", api.ErrNotFound, err)
	case errors.Is(err, courier.ErrNotNodeID), errors.Is(err, seal.ErrTooLarge):
		return client.SendResult{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return client.SendResult{}, err
}

func (b backend) Inbox(ctx context.Context, after uint64, limit int) ([]client.InboxItem, error) {
	items, err := b.d.store.InboxSince(after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]client.InboxItem, 0, len(items))
	for _, it := range items {
		var env envelope.Envelope
		if err := env.UnmarshalBinary(it.Data); err != nil {
			return nil, fmt.Errorf("daemon: inbox item %d: %w", it.Seq, err)
		}
		out = append(out, client.InboxItem{Seq: it.Seq, From: it.From, Received: it.Received, Envelope: env})
	}
	return out, nil
}

func (b backend) Subscribe(ctx context.Context) (<-chan client.Event, error) {
	return b.d.hub.Subscribe(ctx, 1024), nil
}

func (b backend) Node(ctx context.Context) (client.NodeRecord, error) {
	return client.NodeRecord{Record: node.EncodeText(b.d.currentRecord()), NodeID: string(b.d.id.ID())}, nil
}

func (b backend) AddPeer(ctx context.Context, record string) (client.PeerInfo, error) {
	r, raw, err := node.DecodeText(record)
	if err != nil {
		return client.PeerInfo{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if _, err := b.d.courier.AddPeer(raw); err != nil {
		return client.PeerInfo{}, err
	}
	b.d.courier.Nudge()
	return client.PeerInfo{NodeID: string(r.ID), Addresses: r.Addresses}, nil
}

func (b backend) Peers(ctx context.Context) ([]client.PeerInfo, error) {
	all, err := b.d.store.Peers()
	if err != nil {
		return nil, err
	}
	out := make([]client.PeerInfo, 0, len(all))
	for id, raw := range all {
		r, err := node.DecodeRecord(raw)
		if err != nil {
			b.d.log.Warn("stored peer record is invalid", "peer", id, "error", err)
			continue
		}
		out = append(out, client.PeerInfo{NodeID: string(r.ID), Addresses: r.Addresses})
	}
	slices.SortFunc(out, func(a, b client.PeerInfo) int {
		if a.NodeID < b.NodeID {
			return -1
		}
		if a.NodeID > b.NodeID {
			return 1
		}
		return 0
	})
	return out, nil
}

func (b backend) ManCon(ctx context.Context) (client.ManConStatus, error) {
	s := b.d.mc.Snapshot()
	out := client.ManConStatus{Base: s.Base.String(), Ratchet: s.Ratchet.String(), Effective: s.Effective.String(),
		Blocked: s.Blocked, PolicyFiles: s.Files, Networks: map[string]client.NetworkState{}}
	for n, st := range s.Networks {
		out.Networks[n] = client.NetworkState{Status: st.Status.String(), Since: st.Since, Why: st.Why}
	}
	return out, nil
}

func (b backend) SetManCon(ctx context.Context, level string) (client.ManConStatus, error) {
	m, err := envelope.ParseManCon(level)
	if err != nil {
		return client.ManConStatus{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if err := b.d.mc.SetBase(m); err != nil {
		return client.ManConStatus{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	b.d.courier.Nudge()
	return b.ManCon(ctx)
}

func (b backend) Explain(ctx context.Context, kind, to, level string) (client.Explanation, error) {
	req := policy.Request{Kind: envelope.Kind(kind), To: to}
	if level != "" {
		m, err := envelope.ParseManCon(level)
		if err != nil {
			return client.Explanation{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
		}
		req.ManCon = m
	}
	plan, err := b.d.mc.Evaluate(req, b.policyPeers())
	if err != nil && !errors.Is(err, policy.ErrNoRoute) {
		return client.Explanation{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	ex := client.Explanation{Level: plan.Level.String(), Kind: string(plan.Kind), Rule: plan.Rule, Explain: plan.Explain,
		NoRoute: errors.Is(err, policy.ErrNoRoute)}
	for _, r := range plan.Routes {
		ex.Routes = append(ex.Routes, r.String())
	}
	for _, f := range plan.OnFailure {
		ex.OnFailure = append(ex.OnFailure, string(f.Action))
	}
	return ex, nil
}

// policyPeers describes the known peers for the policy: their networks are
// those their records list addresses for.
func (b backend) policyPeers() []policy.Peer {
	all, err := b.d.store.Peers()
	if err != nil {
		return nil
	}
	var out []policy.Peer
	for _, raw := range all {
		r, err := node.DecodeRecord(raw)
		if err != nil {
			continue
		}
		p := policy.Peer{ID: string(r.ID)}
		for n := range r.Addresses {
			p.Networks = append(p.Networks, n)
		}
		slices.Sort(p.Networks)
		out = append(out, p)
	}
	return out
}
