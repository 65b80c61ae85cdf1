package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// Ratchet is the escalation state machine. Its level is never below the
// base level nor below what the current blocks imply (the policy's escalate
// blocks); it climbs at once when blocks imply more, stays up after they
// clear, and steps down one level for each Decay of verified success with
// no new block. Time is passed in; the Ratchet reads no clock. Not safe for
// concurrent use.
type Ratchet struct {
	p       *Policy
	base    envelope.ManCon
	level   envelope.ManCon
	blocked map[string]NetState
	// successSince is the first verified success since the last climb,
	// block or step down; zero when none.
	successSince time.Time
}

// Change is one change of the ratchet's level, with its cause.
type Change struct {
	From, To envelope.ManCon
	At       time.Time
	Cause    string
}

func (c Change) String() string {
	return fmt.Sprintf("%s %s -> %s: %s", c.At.UTC().Format(time.RFC3339), c.From, c.To, c.Cause)
}

// NewRatchet starts at base (the policy default if base is unset).
func NewRatchet(p *Policy, base envelope.ManCon) *Ratchet {
	if base == envelope.ManConUnset {
		base = p.Default
	}
	return &Ratchet{p: p, base: base, level: base, blocked: map[string]NetState{}}
}

// Level is the current escalated level.
func (r *Ratchet) Level() envelope.ManCon { return r.level }

// Blocked returns the networks currently reported blocked, sorted.
func (r *Ratchet) Blocked() []string {
	var ns []string
	for n := range r.blocked {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func (r *Ratchet) implied() (envelope.ManCon, *Escalation) {
	return r.p.Implied(func(n string) bool { _, ok := r.blocked[n]; return ok })
}

// Block records that a transport saw network blocked at t, and why. It
// returns the change when the level climbs.
func (r *Ratchet) Block(network string, t time.Time, why string) (Change, bool) {
	if _, already := r.blocked[network]; !already {
		r.blocked[network] = NetState{Status: Blocked, Since: t, Why: why}
	}
	r.successSince = time.Time{}
	implied, esc := r.implied()
	if implied <= r.level {
		return Change{}, false
	}
	var causes []string
	for _, n := range esc.WhenBlocked {
		causes = append(causes, n+" "+since(r.blocked[n]))
	}
	c := Change{From: r.level, To: implied, At: t,
		Cause: fmt.Sprintf("%s (escalate at %s)", strings.Join(causes, ", "), Pos(esc.Pos))}
	r.level = implied
	return c, true
}

// Ready records that network works again. The level does not drop: only
// verified success brings it down.
func (r *Ratchet) Ready(network string, t time.Time) {
	delete(r.blocked, network)
}

// Success records a verified success (a delivery or fetch confirmed end to
// end) over network at t. After Decay of successes with no block in
// between, the level steps down one, never below the base or what the
// remaining blocks imply; the change is returned.
func (r *Ratchet) Success(network string, t time.Time) (Change, bool) {
	if r.successSince.IsZero() || t.Before(r.successSince) {
		r.successSince = t
		return Change{}, false
	}
	implied, _ := r.implied()
	floor := max(r.base, implied)
	if r.level <= floor || t.Sub(r.successSince) < r.p.Decay {
		return Change{}, false
	}
	c := Change{From: r.level, To: r.level - 1, At: t,
		Cause: fmt.Sprintf("verified success since %s (last over %s) for at least %s",
			r.successSince.UTC().Format(time.RFC3339), network, formatDuration(r.p.Decay))}
	r.level--
	r.successSince = t
	return c, true
}

// SetBase changes the user's base level at t. The level follows a higher
// base at once; a lower base lets it decay further, never drop at once.
func (r *Ratchet) SetBase(base envelope.ManCon, t time.Time) (Change, bool) {
	if base == envelope.ManConUnset {
		base = r.p.Default
	}
	r.base = base
	if base <= r.level {
		return Change{}, false
	}
	c := Change{From: r.level, To: base, At: t, Cause: "base level raised to " + base.String()}
	r.level = base
	return c, true
}
