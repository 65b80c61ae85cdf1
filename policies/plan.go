package policy

import (
	"fmt"
	"strings"
)

// String renders the plan as stable text, the form the golden tests pin.
func (pl Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "level %s %s, rule %s, budget %s\n", pl.Level, pl.Kind, pl.Rule, pl.Budget)
	for i, r := range pl.Routes {
		fmt.Fprintf(&b, "route %d: %s\n", i+1, r)
	}
	var fb []string
	for _, f := range pl.OnFailure {
		s := string(f.Action)
		if len(f.Peers) > 0 {
			s += " [" + strings.Join(f.Peers, " ") + "]"
		}
		fb = append(fb, s)
	}
	fmt.Fprintf(&b, "on failure: %s\n", strings.Join(fb, ", then "))
	for _, e := range pl.Explain {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	return b.String()
}

func (r RoutePlan) String() string {
	var b strings.Builder
	b.WriteString(r.Network)
	if r.Bootstrapping {
		b.WriteString(" (bootstrapping)")
	}
	fmt.Fprintf(&b, " hops=%s", r.Hops)
	if len(r.HopNetworks) > 0 {
		fmt.Fprintf(&b, " hop_networks=%s", strings.Join(r.HopNetworks, ","))
	}
	fmt.Fprintf(&b, " delay=%s", r.Delay)
	if !r.Hold.IsZero() {
		fmt.Fprintf(&b, " hold=%s", r.Hold)
	}
	fmt.Fprintf(&b, " copies=%s", r.Copies)
	for _, v := range r.Via {
		kind := "peer"
		if v.Exit {
			kind = "exit"
		}
		fmt.Fprintf(&b, " -> %s{over %s, %s", kind, v.Network, describe(v))
		if !v.Delay.IsZero() {
			fmt.Fprintf(&b, ", delay %s", v.Delay)
		}
		switch {
		case len(v.Candidates) > 0:
			fmt.Fprintf(&b, ": %s", strings.Join(v.Candidates, " "))
		case v.Discover:
			b.WriteString(": discover")
		default:
			b.WriteString(": next peer finds")
		}
		b.WriteString("}")
	}
	return b.String()
}
