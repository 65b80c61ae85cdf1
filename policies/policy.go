package policy

import (
	_ "embed"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// DefaultFilename names the embedded default policy in positions.
const DefaultFilename = "policies/default.hcl"

// DefaultDecay is how long verified success must last before the ratchet
// steps down one level when a policy has no ratchet block.
const DefaultDecay = 24 * time.Hour

//go:embed default.hcl
var defaultHCL []byte

// DefaultSource returns a copy of the embedded default policy text.
func DefaultSource() []byte { return append([]byte(nil), defaultHCL...) }

var defaultPolicy = sync.OnceValue(func() *Policy {
	p, err := Parse(defaultHCL, DefaultFilename)
	if err != nil {
		panic("policy: embedded default.hcl is invalid: " + err.Error())
	}
	return p
})

// Default returns the embedded default policy. It is shared; do not modify.
func Default() *Policy { return defaultPolicy() }

// Policy is a decoded, validated policy. Immutable once returned.
type Policy struct {
	// Levels holds one entry per level, indexed by envelope.ManCon
	// (Levels[envelope.LOW] ... Levels[envelope.NEO]); index 0 is nil.
	Levels [envelope.NEO + 1]*Level
	// Default is the level used when neither the envelope nor the node
	// sets one.
	Default envelope.ManCon
	// Escalations say which levels blocked networks imply, in file order.
	Escalations []Escalation
	// Decay is how long verified success must last before the ratchet
	// steps down one level.
	Decay time.Duration

	nets *networks
}

// Level is what the policy says for one level. A level "NAME" block gives
// one; a level "LOW..HIGH" block gives one per level in the range, each with
// the same budget and routes (shared) and Pos at that block.
type Level struct {
	ManCon envelope.ManCon
	Budget Budget
	Web    []*Route // in file order; the last one has no Match
	P2P    []*Route
	Pos    hcl.Range
}

// Routes returns the routes for a kind: web, or p2p for p2p and service.
func (l *Level) Routes(kind envelope.Kind) []*Route {
	if kind == envelope.KindWeb {
		return l.Web
	}
	return l.P2P
}

// Route is one web { } or p2p { } block.
type Route struct {
	Kind envelope.Kind
	// Match holds lowercase host patterns (path.Match syntax, "*.i2p");
	// empty means every destination.
	Match     []string
	Steps     []*Step
	OnFailure []Action
	Budget    Budget
	Pos       hcl.Range
}

// Step is one step "NETWORK-OR-CLASS" { } block of a chain.
type Step struct {
	// Target is the network or class as written.
	Target string
	// Hops is the number of onemfive onion relays before the network hop.
	Hops IntRange
	// HopNetworks, if set, are the networks the onion hops pick from at
	// random (NEO's "random mix of 1DN/I2P hops").
	HopNetworks []string
	// Delay is the random delay each relay holds a packet before sending it
	// on the network.
	Delay DurRange
	// Hold is the onion-layer store-and-forward delay (NEO: up to months).
	Hold DurRange
	// Copies is how many copies of the message go out.
	Copies IntRange
	// Via lists the peers the traffic goes through, in order; the last one
	// fetches (web) or delivers (p2p).
	Via []*Via
	Pos hcl.Range
}

// Via is one via { } block: a peer the step goes through.
type Via struct {
	// Network reaches this peer; empty for the first via means the step's
	// network, for later ones the previous peer's choice.
	Network string
	// PeerHas are networks the peer must have.
	PeerHas []string
	// PeerManConBelow, if set, requires the peer's level to be lower.
	PeerManConBelow envelope.ManCon
	// Discover allows the step when no such peer is known yet: the step
	// itself is how one is found (1DN).
	Discover bool
	// Delay is held before forwarding to this peer.
	Delay DurRange
	Pos   hcl.Range
}

// Action is what happens once a chain is exhausted.
type Action string

// Actions for on_failure, tried in order.
const (
	// RelayViaPeers forwards the request to peers until one can make it;
	// the result comes back directly.
	RelayViaPeers Action = "relay_via_peers"
	// Queue keeps the message (store-and-forward) until a route returns.
	Queue Action = "queue"
	// SiteDown reports the destination as down (web).
	SiteDown Action = "site_down"
	// GiveUp fails the request.
	GiveUp Action = "give_up"
)

var actions = []Action{RelayViaPeers, Queue, SiteDown, GiveUp}

// Escalation is one escalate { } block: when every network in WhenBlocked
// is blocked, the effective level is at least To.
type Escalation struct {
	WhenBlocked []string
	To          envelope.ManCon
	Pos         hcl.Range
}

// Implied returns the highest level the blocked networks imply and the
// escalation that implies it (nil when none applies).
func (p *Policy) Implied(blocked func(network string) bool) (envelope.ManCon, *Escalation) {
	best, which := envelope.ManConUnset, (*Escalation)(nil)
	for i := range p.Escalations {
		e := &p.Escalations[i]
		all := true
		for _, n := range e.WhenBlocked {
			if !blocked(n) {
				all = false
				break
			}
		}
		if all && e.To > best {
			best, which = e.To, e
		}
	}
	return best, which
}

// Networks returns every network name the policy knows, builtins first.
func (p *Policy) Networks() []string { return append([]string(nil), p.nets.order...) }

// Expand returns the networks a network or class name stands for.
func (p *Policy) Expand(name string) []string {
	return append([]string(nil), p.nets.expand(name)...)
}

// Pos formats a range as file:line:col.
func Pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
