package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onemfive/onemfive/host/mancon"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/store"
	"github.com/onemfive/onemfive/host/supervisor"
	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/transport"
)

// errNeedsRelay explains a route through a relay peer taken without onion
// hops: without them this node sends only straight to the destination (the
// onion layer is what carries a message across relays and networks).
var errNeedsRelay = errors.New("needs a relay peer with another network, which only onion hops reach")

func (d *Daemon) startPolicy(ctx context.Context) error {
	mc, err := mancon.New(mancon.Options{Files: d.cfg.Policies, Base: d.cfg.ManCon, Log: d.log.Named("mancon"), Notify: d.onManCon})
	if err != nil {
		return err
	}
	d.mc = mc
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.policyCancel = cancel
	d.policyWG.Add(1)
	go func() { defer d.policyWG.Done(); mc.Watch(wctx, 2*time.Second) }()
	return nil
}

func (d *Daemon) stopPolicy(context.Context) error {
	d.policyCancel()
	d.policyWG.Wait()
	return nil
}

// Reload re-reads the policy files (SIGHUP). An invalid edit is refused
// and the previous policy stays in force.
func (d *Daemon) Reload() error { return d.mc.Reload() }

func (d *Daemon) onManCon(ev mancon.Event) {
	data := map[string]any{"kind": ev.Kind}
	msg := ev.Kind
	switch ev.Kind {
	case mancon.EventLevel:
		data["from"], data["to"], data["cause"] = ev.From.String(), ev.To.String(), ev.Cause
		msg = fmt.Sprintf("effective ManCon %s -> %s: %s", ev.From, ev.To, ev.Cause)
	case mancon.EventReload:
		data["files"] = ev.Files
		msg = "policy reloaded"
	case mancon.EventReloadFailed:
		data["error"] = ev.Cause
		msg = "policy edit refused: " + ev.Cause
	}
	d.hub.Publish(client.Event{Type: client.EventMancon, Time: ev.Time, Message: msg, Data: data})
	if ev.Kind == mancon.EventLevel && d.courier != nil {
		d.courier.Nudge()
	}
}

// netStatus maps a transport's state to the policy's view of its network.
func netStatus(s transport.State) policy.Status {
	switch s {
	case transport.StateReady:
		return policy.Ready
	case transport.StateStarting:
		return policy.Bootstrapping
	case transport.StateBlocked:
		return policy.Blocked
	default:
		return policy.Absent
	}
}

// onNetworkEvent feeds transport reports to the ManCon engine.
func (d *Daemon) onNetworkEvent(network string, ev transport.Event) {
	why := ev.Reason
	if why == "" {
		why = ev.Summary
	}
	d.mc.Network(network, netStatus(ev.State), why)
}

// onNetworkState follows plugin lifecycle states: a plugin that is gone,
// refused or stopped means its network is absent.
func (d *Daemon) onNetworkState(name string, st supervisor.State, err error) {
	switch st {
	case supervisor.StateReady:
		d.mc.Network(name, policy.Ready, "")
	case supervisor.StateBlocked:
		// The transport's own event carried the reason.
	case supervisor.StateStarting:
		d.mc.Network(name, policy.Bootstrapping, "plugin starting")
	default:
		why := string(st)
		if err != nil {
			why = err.Error()
		}
		d.mc.Network(name, policy.Absent, why)
	}
}

// route is the courier's route function: the first route of the ManCon
// plan that can reach the destination directly over a ready network.
func (d *Daemon) route(dest *node.Record, o store.Outgoing) (string, string, error) {
	level := envelope.ManConUnset
	if v, ok := d.levels.Load(o.ID); ok {
		level = v.(envelope.ManCon)
	}
	nets := make([]string, 0, len(dest.Addresses))
	for n := range dest.Addresses {
		nets = append(nets, n)
	}
	slices.Sort(nets)
	var plan policy.Plan
	replies := 0 // the overlay's default
	if v, ok := d.forced.Load(o.ID); ok {
		// A relayed web stream's frame follows its web step: that step's
		// network and hops, to the relay peer chosen for it.
		rp := v.(policy.RoutePlan)
		rp.Via = nil
		plan = policy.Plan{Kind: envelope.KindWeb, Routes: []policy.RoutePlan{rp}}
		replies = relayReplies
	} else {
		var err error
		plan, err = d.mc.Plan(policy.Request{Kind: envelope.KindP2P, To: string(dest.ID), ManCon: level},
			[]policy.Peer{{ID: string(dest.ID), Networks: nets}})
		if err != nil && !errors.Is(err, policy.ErrNoRoute) {
			return "", "", err
		}
	}
	var skipped []string
	for _, r := range plan.Routes {
		if r.Hops.Max > 0 {
			p, err := d.onionRoute(dest, r, replies)
			if err == nil {
				if o.Attempts == 0 {
					d.log.Debug("routing over onion paths", "id", o.ID, "dest", dest.ID.Short(), "hops", p.Hops, "networks", p.Networks)
				}
				return onionNetwork, onionAddr(dest.ID, p), nil
			}
			skipped = append(skipped, fmt.Sprintf("%s with %s onion hops: %v", r.Network, r.Hops, err))
			if !d.cfg.Onion.FallbackDirect {
				continue
			}
			if !d.cfg.Onion.FallbackClearnet && !d.mc.InClass(r.Network, policy.ClassAnonymous) {
				skipped = append(skipped, fmt.Sprintf("%s without onion hops: it would show this node's address to the destination (onion.fallback_clearnet is off)", r.Network))
				continue
			}
			if o.Attempts == 0 {
				d.downgrade(o.ID, dest.ID, r, err)
			}
		}
		addrs := dest.Addresses[r.Network]
		switch {
		case len(addrs) == 0:
			skipped = append(skipped, r.Network+": the destination is not on it")
		case !d.sup().Ready(r.Network):
			skipped = append(skipped, r.Network+": not ready here")
		case len(r.Via) > 0 && !r.Via[0].Discover && !slices.Contains(r.Via[0].Candidates, string(dest.ID)):
			skipped = append(skipped, r.Network+": "+errNeedsRelay.Error())
		default:
			return r.Network, addrs[0], nil
		}
	}
	return "", "", fmt.Errorf("no route at %s (%s): %s", plan.Level, strings.Join(skipped, "; "), strings.Join(plan.Explain, "; "))
}

// downgrade records that an envelope the policy wants over onion hops may
// go over a direct route (onion.fallback_direct), in the log and as an
// event.
func (d *Daemon) downgrade(id string, dest node.ID, r policy.RoutePlan, why error) {
	msg := fmt.Sprintf("envelope %s to %s: the policy asks for %s onion hops on %s, but %v; sending without them (onion.fallback_direct)",
		id, dest.Short(), r.Hops, r.Network, why)
	d.log.Warn("onion downgrade", "id", id, "dest", dest.Short(), "why", why)
	d.hub.Publish(client.Event{Type: client.EventDelivery, Time: time.Now(), Message: msg,
		Data: map[string]any{"id": id, "state": "downgraded", "dest": string(dest), "network": r.Network}})
}
