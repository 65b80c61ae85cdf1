package policy

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// Errors Evaluate wraps.
var (
	// ErrNoRoute: no step is usable and no on_failure action can act now.
	// The returned Plan still explains why.
	ErrNoRoute = errors.New("no usable route")
	// ErrRequest: the request itself is unusable (unknown kind, empty
	// destination).
	ErrRequest = errors.New("invalid request")
)

// Plan is the outcome of Evaluate: routes to try in order, then fallbacks.
type Plan struct {
	// Level is the effective level the plan was made at.
	Level envelope.ManCon
	// Kind is web or p2p (service traffic routes as p2p).
	Kind envelope.Kind
	// Rule is the file:line:col of the web/p2p block used.
	Rule   string
	Budget Budget
	// Routes are the usable steps, in the order to try them.
	Routes []RoutePlan
	// OnFailure runs, in order, once every route failed (or at once when
	// Routes is empty).
	OnFailure []Fallback
	// Explain says, in order, why each choice was made and each option
	// skipped.
	Explain []string
}

// RoutePlan is one usable step on one network.
type RoutePlan struct {
	Network     string
	Step        string // the step's target as written: a network or a class
	Rule        string // file:line:col of the step block
	Hops        IntRange
	HopNetworks []string
	Delay       DurRange
	Hold        DurRange
	Copies      IntRange
	// Via are the peers to go through, in order; empty means the node
	// itself sends (p2p) or fetches (web) over Network.
	Via []Relay
	// Bootstrapping is set when Network is not ready yet.
	Bootstrapping bool
}

// Relay is one peer a route goes through.
type Relay struct {
	Network         string // how this peer is reached
	PeerHas         []string
	PeerManConBelow envelope.ManCon
	Delay           DurRange
	// Candidates are known peers that qualify, sorted by id. For the first
	// relay they are reachable from this node over Network.
	Candidates []string
	// Discover: no qualifying peer needs to be known in advance.
	Discover bool
	// Exit is set on the relay a web step with onion hops and no via of
	// its own ends at: the step's network's peer that fetches.
	Exit bool
}

// Fallback is one on_failure action with what it can use.
type Fallback struct {
	Action Action
	// Peers are the candidates for RelayViaPeers, sorted by id.
	Peers []string
}

// Evaluate plans how to send req at the effective level: the highest of
// the requested level, the base level, the ratchet's level and the level
// the current blocks imply. It does no I/O. On ErrNoRoute the Plan is
// still returned, explaining what was skipped.
func Evaluate(p *Policy, req Request, st State) (Plan, error) {
	var pl Plan
	switch req.Kind {
	case envelope.KindWeb, envelope.KindP2P:
		pl.Kind = req.Kind
	case envelope.KindService:
		pl.Kind = envelope.KindP2P
	default:
		return pl, fmt.Errorf("policy: evaluate: %w: unknown kind %q", ErrRequest, req.Kind)
	}
	if strings.TrimSpace(req.To) == "" {
		return pl, fmt.Errorf("policy: evaluate: %w: empty destination", ErrRequest)
	}
	if !req.ManCon.Valid() || !st.Base.Valid() || !st.Escalated.Valid() {
		return pl, fmt.Errorf("policy: evaluate: %w: level out of range", ErrRequest)
	}
	if req.Kind == envelope.KindService {
		pl.explain("service traffic routes as p2p")
	}
	pl.Level = effective(p, req, st, &pl)
	lvl := p.Levels[pl.Level]

	name := matchName(pl.Kind, req.To)
	var route *Route
	for _, r := range lvl.Routes(pl.Kind) {
		if pat, ok := matches(r, name); ok {
			route = r
			if pat == "" {
				pl.explain("%s rule at %s: catch-all for %q", pl.Kind, Pos(r.Pos), name)
			} else {
				pl.explain("%s rule at %s: %q matches %s", pl.Kind, Pos(r.Pos), name, pat)
			}
			break
		}
		pl.explain("%s rule at %s: %q does not match %s", pl.Kind, Pos(r.Pos), name, strings.Join(r.Match, ", "))
	}
	pl.Rule, pl.Budget = Pos(route.Pos), route.Budget

	for _, s := range route.Steps {
		for _, n := range p.nets.expand(s.Target) {
			if rp, ok := planStep(s, n, st, &pl); ok {
				pl.Routes = append(pl.Routes, rp)
			}
		}
	}

	actionable := len(pl.Routes) > 0
	for _, a := range route.OnFailure {
		fb := Fallback{Action: a}
		switch a {
		case RelayViaPeers:
			fb.Peers = relayPeers(st)
			if len(fb.Peers) == 0 {
				pl.explain("on failure %s: no known peer is reachable over a usable network", a)
			} else {
				pl.explain("on failure %s: %s", a, strings.Join(fb.Peers, ", "))
				actionable = true
			}
		case Queue:
			pl.explain("on failure %s: keep the message until a route is usable", a)
			actionable = true
		case SiteDown:
			pl.explain("on failure %s: report %q as down", a, name)
		case GiveUp:
			pl.explain("on failure %s: fail the request", a)
		}
		pl.OnFailure = append(pl.OnFailure, fb)
	}
	if !actionable {
		return pl, fmt.Errorf("policy: evaluate: %w at %s for %q: %s", ErrNoRoute, pl.Level, name, pl.OnFailure[len(pl.OnFailure)-1].Action)
	}
	return pl, nil
}

func (pl *Plan) explain(format string, a ...any) {
	pl.Explain = append(pl.Explain, fmt.Sprintf(format, a...))
}

// effective computes and explains the effective level.
func effective(p *Policy, req Request, st State, pl *Plan) envelope.ManCon {
	implied, esc := p.Implied(func(n string) bool { return st.net(n).Status == Blocked })
	lvl := max(req.ManCon, st.Base, st.Escalated, implied)
	parts := []string{"requested " + levelName(req.ManCon), "base " + levelName(st.Base), "ratchet " + levelName(st.Escalated)}
	if esc != nil {
		var why []string
		for _, n := range esc.WhenBlocked {
			why = append(why, n+" "+since(st.net(n)))
		}
		parts = append(parts, fmt.Sprintf("blocks %s (%s; escalate at %s)", implied, strings.Join(why, ", "), Pos(esc.Pos)))
	} else {
		parts = append(parts, "blocks none")
	}
	if lvl == envelope.ManConUnset {
		lvl = p.Default
		parts = append(parts, "policy default "+lvl.String())
	}
	pl.explain("level %s: %s", lvl, strings.Join(parts, ", "))
	return lvl
}

func levelName(m envelope.ManCon) string {
	if m == envelope.ManConUnset {
		return "unset"
	}
	return m.String()
}

// matches reports whether r applies to name, and the pattern that matched
// ("" for a catch-all).
func matches(r *Route, name string) (string, bool) {
	if len(r.Match) == 0 {
		return "", true
	}
	for _, pat := range r.Match {
		if ok, _ := path.Match(pat, strings.ToLower(name)); ok {
			return pat, true
		}
	}
	return "", false
}

// planStep plans step s on network n, or explains why it is skipped.
func planStep(s *Step, n string, st State, pl *Plan) (RoutePlan, bool) {
	label := n
	if s.Target != n {
		label = n + " (from " + s.Target + ")"
	}
	ns := st.net(n)
	if !ns.Status.usable() {
		pl.explain("skip %s at %s: %s", label, Pos(s.Pos), since(ns))
		return RoutePlan{}, false
	}
	rp := RoutePlan{
		Network: n, Step: s.Target, Rule: Pos(s.Pos),
		Hops: s.Hops, HopNetworks: s.HopNetworks, Delay: s.Delay, Hold: s.Hold, Copies: s.Copies,
		Bootstrapping: ns.Status == Bootstrapping,
	}
	prev := n
	for i, v := range s.Via {
		r := Relay{Network: v.Network, PeerHas: v.PeerHas, PeerManConBelow: v.PeerManConBelow, Delay: v.Delay, Discover: v.Discover}
		if r.Network == "" {
			r.Network = prev
		}
		prev = r.Network
		r.Candidates = Candidates(st.Peers, r)
		if i == 0 && len(r.Candidates) == 0 && !r.Discover {
			pl.explain("skip %s at %s: no known peer over %s with %s", label, Pos(s.Pos), n, describe(r))
			return RoutePlan{}, false
		}
		rp.Via = append(rp.Via, r)
	}
	if pl.Kind == envelope.KindWeb && len(rp.Via) == 0 && s.Hops.Max > 0 {
		// Onion relays cannot fetch a site unless one of them is the
		// exit: a peer with the step's network, after the hops, fetches.
		r := Relay{Network: n, PeerHas: []string{n}, Exit: true}
		r.Candidates = Candidates(st.Peers, r)
		if len(r.Candidates) == 0 {
			pl.explain("skip %s at %s: %s onion hops need an exit after them, and no known peer over %s has %s to fetch", label, Pos(s.Pos), s.Hops, n, n)
			return RoutePlan{}, false
		}
		rp.Via = append(rp.Via, r)
	}
	msg := fmt.Sprintf("use %s at %s: %s", label, Pos(s.Pos), ns.Status)
	if ns.Status == Bootstrapping {
		msg = fmt.Sprintf("use %s at %s: %s; sending waits for it", label, Pos(s.Pos), since(ns))
	}
	for _, r := range rp.Via {
		switch {
		case r.Exit:
			msg += fmt.Sprintf("; %s onion hops, then an exit peer with %s fetches: %s", rp.Hops, describe(r), strings.Join(r.Candidates, ", "))
		case len(r.Candidates) > 0:
			msg += fmt.Sprintf("; via a peer over %s with %s: %s", r.Network, describe(r), strings.Join(r.Candidates, ", "))
		case r.Discover:
			msg += fmt.Sprintf("; via a peer over %s with %s, none known yet: discover", r.Network, describe(r))
		default:
			msg += fmt.Sprintf("; via a peer over %s with %s, found by the previous peer", r.Network, describe(r))
		}
	}
	pl.explain("%s", msg)
	return rp, true
}

func describe(r Relay) string {
	var parts []string
	if len(r.PeerHas) > 0 {
		parts = append(parts, strings.Join(r.PeerHas, "+"))
	}
	if r.PeerManConBelow != envelope.ManConUnset {
		parts = append(parts, "ManCon below "+r.PeerManConBelow.String())
	}
	if len(parts) == 0 {
		return "any capability"
	}
	return strings.Join(parts, ", ")
}

// Candidates returns the ids of peers that qualify for r (reachable over
// r.Network, with r.PeerHas and r.PeerManConBelow), sorted; a peer
// forwarding along a chain uses it to pick the next one.
func Candidates(peers []Peer, r Relay) []string {
	var ids []string
	for _, p := range peers {
		if !p.has(r.Network) {
			continue
		}
		ok := true
		for _, n := range r.PeerHas {
			ok = ok && p.has(n)
		}
		if r.PeerManConBelow != envelope.ManConUnset && (p.ManCon == envelope.ManConUnset || p.ManCon >= r.PeerManConBelow) {
			ok = false
		}
		if ok && !contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// relayPeers are peers reachable over any network usable here.
func relayPeers(st State) []string {
	var ids []string
	for _, p := range st.Peers {
		for _, n := range p.Networks {
			if st.net(n).Status.usable() && !contains(ids, p.ID) {
				ids = append(ids, p.ID)
			}
		}
	}
	sort.Strings(ids)
	return ids
}
