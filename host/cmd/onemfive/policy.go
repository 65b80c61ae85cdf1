package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"

	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// The policy commands work offline: they read policy files (or the embedded
// default) and never contact the daemon.

func cmdPolicy(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return usagef("policy needs a subcommand: check [FILES...] | explain [flags] DESTINATION | default")
	}
	switch args[0] {
	case "check":
		return cmdPolicyCheck(ctx, a, args[1:])
	case "explain":
		return cmdPolicyExplain(ctx, a, args[1:])
	case "default":
		return cmdPolicyDefault(ctx, a, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(a.stdout, "usage: onemfive policy check [FILES...]       check policy files (default: the embedded default policy)\n"+
			"       onemfive policy explain [flags] DEST  show how a destination would be routed\n"+
			"       onemfive policy default               print the embedded default policy\n\n"+
			"These commands work offline; run 'onemfive policy explain --help' for its flags.")
		return nil
	}
	return usagef("unknown policy subcommand %q (want check, explain or default)", args[0])
}

// loadPolicy loads files as one policy, or returns the embedded default.
func loadPolicy(files []string) (*policy.Policy, error) {
	if len(files) == 0 {
		return policy.Default(), nil
	}
	return policy.Load(files...)
}

func cmdPolicyCheck(_ context.Context, a *app, args []string) error {
	fs := a.flags("policy check", "policy check [FILES...]\n\nChecks the files as one policy (networks and levels may be split across them);\nwithout FILES, checks the embedded default policy.")
	if err := parse(fs, args); err != nil {
		return err
	}
	p, err := loadPolicy(fs.Args())
	var perr *policy.Error
	if errors.As(err, &perr) {
		n := printDiagnostics(a.stderr, perr.Diagnostics)
		if n == 1 {
			return errors.New("1 problem")
		}
		return fmt.Errorf("%d problems", n)
	}
	if err != nil {
		return err
	}
	levels := 0
	for _, l := range p.Levels {
		if l != nil {
			levels++
		}
	}
	fmt.Fprintf(a.stdout, "ok: %d levels, %d networks\n", levels, len(p.Networks()))
	return nil
}

// printDiagnostics prints each diagnostic as file:line:col: message and
// returns the number of errors among them.
func printDiagnostics(w io.Writer, diags hcl.Diagnostics) int {
	errs := 0
	for _, d := range diags {
		msg := d.Summary
		if d.Detail != "" {
			msg += "; " + d.Detail
		}
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			msg = "warning: " + msg
		}
		if d.Subject != nil {
			msg = policy.Pos(*d.Subject) + ": " + msg
		}
		fmt.Fprintln(w, msg)
	}
	return errs
}

func cmdPolicyDefault(_ context.Context, a *app, args []string) error {
	fs := a.flags("policy default", "policy default\n\nPrints the embedded default policy, a starting point for your own.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("policy default takes no arguments")
	}
	_, err := a.stdout.Write(policy.DefaultSource())
	return err
}

const explainSynopsis = `policy explain --kind web|p2p|service [flags] DESTINATION

Shows the plan the policy makes for a destination (a URL or host for web, a
DID, node id or service name otherwise) and why. It works offline against
network states and peers given by flags: by default every network the policy
knows is ready and no peers are known, so steps that must go through a peer
are skipped unless you describe one with --peer. With --live it asks the
running daemon instead, which uses its policy, its networks' reported states,
its ratchet and the peers it knows.

Exit status 1 when the policy has no usable route; the explanation says why.`

func cmdPolicyExplain(ctx context.Context, a *app, args []string) error {
	fs := a.flags("policy explain", explainSynopsis)
	live := fs.Bool("live", false, "ask the running daemon (its policy, network states and peers) instead of the flags")
	level := fs.String("level", "", "the level the envelope asks for (default: none, so base, blocks and the policy default decide)")
	kind := fs.String("kind", "", "traffic kind: web, p2p or service (required)")
	base := fs.String("base", "", "the node's base level (config mancon; default: unset)")
	ratchet := fs.String("ratchet", "", "the ratchet's escalated level (default: unset)")
	blocked := fs.StringSlice("blocked", nil, "networks or classes that are blocked, e.g. tor,i2p")
	absent := fs.StringSlice("absent", nil, "networks or classes with no transport")
	booting := fs.StringSlice("bootstrapping", nil, "networks or classes still bootstrapping")
	only1DN := fs.Bool("only-1dn", false, "only 1DN networks (lan) are available: every other network not given as blocked is absent")
	peers := fs.StringArray("peer", nil, "a known peer as ID:NETWORKS[@LEVEL], e.g. bob:tor,i2p@LOW (repeatable)")
	files := fs.StringSlice("policy", nil, "policy files to use (default: the embedded default policy)")
	asJSON := fs.Bool("json", false, "print the state and plan as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
		return usagef("policy explain takes one DESTINATION")
	}
	if *live {
		return explainLive(ctx, a, strings.ToLower(*kind), fs.Arg(0), *level, *asJSON)
	}
	req := policy.Request{To: fs.Arg(0)}
	switch k := envelope.Kind(strings.ToLower(*kind)); k {
	case envelope.KindWeb, envelope.KindP2P, envelope.KindService:
		req.Kind = k
	case "":
		return usagef("policy explain needs --kind web, p2p or service")
	default:
		return usagef("unknown --kind %q (want web, p2p or service)", *kind)
	}
	var st policy.State
	for _, l := range []struct {
		flag, val string
		dst       *envelope.ManCon
	}{{"level", *level, &req.ManCon}, {"base", *base, &st.Base}, {"ratchet", *ratchet, &st.Escalated}} {
		if l.val == "" {
			continue
		}
		m, err := envelope.ParseManCon(l.val)
		if err != nil {
			return usagef("--%s: %v", l.flag, err)
		}
		*l.dst = m
	}

	p, err := loadPolicy(*files)
	if err != nil {
		return err
	}
	if st.Networks, err = netStates(p, *blocked, *absent, *booting, *only1DN); err != nil {
		return err
	}
	for _, s := range *peers {
		peer, err := parsePeer(p, s)
		if err != nil {
			return err
		}
		st.Peers = append(st.Peers, peer)
	}

	plan, err := policy.Evaluate(p, req, st)
	if err != nil && !errors.Is(err, policy.ErrNoRoute) {
		return err
	}
	err = noRouteHint(err, st)
	if *asJSON {
		if jerr := writeJSON(a.stdout, explainJSON(p, st, plan, err)); jerr != nil {
			return jerr
		}
		return err
	}
	printState(a.stdout, p, st)
	fmt.Fprint(a.stdout, plan)
	return err
}

// noRouteHint adds what an offline run may have left out to a no-route error.
func noRouteHint(err error, st policy.State) error {
	if err != nil && len(st.Peers) == 0 {
		return fmt.Errorf("%w (no peers were given: describe one with --peer ID:NETWORKS[@LEVEL])", err)
	}
	return err
}

// netStates builds the network map: every network ready unless a flag says
// otherwise. Names may be networks or classes.
func netStates(p *policy.Policy, blocked, absent, booting []string, only1DN bool) (map[string]policy.NetState, error) {
	nets := map[string]policy.NetState{}
	for _, n := range p.Networks() {
		nets[n] = policy.NetState{Status: policy.Ready}
	}
	set := map[string]string{} // network → flag that set it
	for _, f := range []struct {
		flag   string
		names  []string
		status policy.Status
	}{{"blocked", blocked, policy.Blocked}, {"absent", absent, policy.Absent}, {"bootstrapping", booting, policy.Bootstrapping}} {
		for _, name := range f.names {
			members := p.Expand(strings.ToLower(strings.TrimSpace(name)))
			if len(members) == 0 {
				return nil, usagef("--%s: unknown network or class %q (known: %s, and the classes anonymous, clearnet, 1dn)",
					f.flag, name, strings.Join(p.Networks(), ", "))
			}
			for _, n := range members {
				if prev, dup := set[n]; dup && prev != f.flag {
					return nil, usagef("network %s is given both as --%s and --%s", n, prev, f.flag)
				}
				set[n] = f.flag
				nets[n] = policy.NetState{Status: f.status, Why: "--" + f.flag}
			}
		}
	}
	if only1DN {
		for _, n := range p.Networks() {
			if _, given := set[n]; !given && !contains(p.Expand(policy.Class1DN), n) {
				nets[n] = policy.NetState{Status: policy.Absent, Why: "--only-1dn"}
			}
		}
	}
	return nets, nil
}

// parsePeer parses ID:NETWORKS[@LEVEL]. The id may itself contain colons
// (a DID), so the networks follow the last colon.
func parsePeer(p *policy.Policy, s string) (policy.Peer, error) {
	var peer policy.Peer
	rest := s
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		m, err := envelope.ParseManCon(rest[i+1:])
		if err != nil {
			return peer, usagef("--peer %q: %v", s, err)
		}
		peer.ManCon, rest = m, rest[:i]
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || i == len(rest)-1 {
		return peer, usagef("--peer %q: want ID:NETWORKS[@LEVEL], e.g. bob:tor,i2p@LOW", s)
	}
	peer.ID = rest[:i]
	for _, name := range strings.Split(rest[i+1:], ",") {
		members := p.Expand(strings.ToLower(strings.TrimSpace(name)))
		if len(members) == 0 {
			return peer, usagef("--peer %q: unknown network or class %q (known: %s)", s, name, strings.Join(p.Networks(), ", "))
		}
		for _, n := range members {
			if !contains(peer.Networks, n) {
				peer.Networks = append(peer.Networks, n)
			}
		}
	}
	return peer, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// printState says what the plan assumed, so offline results are not
// mistaken for the live node's.
func printState(w io.Writer, p *policy.Policy, st policy.State) {
	var nets []string
	for _, n := range p.Networks() {
		nets = append(nets, n+" "+st.Networks[n].Status.String())
	}
	fmt.Fprintf(w, "networks: %s\n", strings.Join(nets, ", "))
	if len(st.Peers) == 0 {
		fmt.Fprintln(w, "peers: none known (describe some with --peer ID:NETWORKS[@LEVEL])")
	} else {
		var ps []string
		for _, peer := range st.Peers {
			s := peer.ID + " " + strings.Join(peer.Networks, ",")
			if peer.ManCon != envelope.ManConUnset {
				s += " " + peer.ManCon.String()
			}
			ps = append(ps, s)
		}
		fmt.Fprintf(w, "peers: %s\n", strings.Join(ps, "; "))
	}
	fmt.Fprintln(w)
}

// The --json view of explain: ranges and durations as the policy writes
// them ("1..3", "4s..10s"), levels by name.
type (
	explainOut struct {
		Networks map[string]string `json:"networks"`
		Peers    []peerOut         `json:"peers"`
		Plan     planOut           `json:"plan"`
		NoRoute  bool              `json:"no_route,omitempty"`
		Error    string            `json:"error,omitempty"`
	}
	peerOut struct {
		ID       string   `json:"id"`
		Networks []string `json:"networks"`
		ManCon   string   `json:"mancon,omitempty"`
	}
	planOut struct {
		Level     string        `json:"level"`
		Kind      string        `json:"kind"`
		Rule      string        `json:"rule"`
		Budget    string        `json:"budget"`
		Routes    []routeOut    `json:"routes"`
		OnFailure []fallbackOut `json:"on_failure"`
		Explain   []string      `json:"explain"`
	}
	routeOut struct {
		Network       string     `json:"network"`
		Step          string     `json:"step"`
		Rule          string     `json:"rule"`
		Hops          string     `json:"hops"`
		HopNetworks   []string   `json:"hop_networks,omitempty"`
		Delay         string     `json:"delay"`
		Hold          string     `json:"hold,omitempty"`
		Copies        string     `json:"copies"`
		Via           []relayOut `json:"via,omitempty"`
		Bootstrapping bool       `json:"bootstrapping,omitempty"`
	}
	relayOut struct {
		Network         string   `json:"network"`
		PeerHas         []string `json:"peer_has,omitempty"`
		PeerManConBelow string   `json:"peer_mancon_below,omitempty"`
		Delay           string   `json:"delay,omitempty"`
		Candidates      []string `json:"candidates"`
		Discover        bool     `json:"discover,omitempty"`
	}
	fallbackOut struct {
		Action string   `json:"action"`
		Peers  []string `json:"peers,omitempty"`
	}
)

func explainJSON(p *policy.Policy, st policy.State, pl policy.Plan, err error) explainOut {
	out := explainOut{Networks: map[string]string{}, Peers: []peerOut{}, Plan: planOut{
		Level: pl.Level.String(), Kind: string(pl.Kind), Rule: pl.Rule, Budget: pl.Budget.String(),
		Routes: []routeOut{}, OnFailure: []fallbackOut{}, Explain: pl.Explain,
	}}
	for _, n := range p.Networks() {
		out.Networks[n] = st.Networks[n].Status.String()
	}
	for _, peer := range st.Peers {
		po := peerOut{ID: peer.ID, Networks: peer.Networks}
		if peer.ManCon != envelope.ManConUnset {
			po.ManCon = peer.ManCon.String()
		}
		out.Peers = append(out.Peers, po)
	}
	for _, r := range pl.Routes {
		ro := routeOut{Network: r.Network, Step: r.Step, Rule: r.Rule, Hops: r.Hops.String(), HopNetworks: r.HopNetworks,
			Delay: r.Delay.String(), Copies: r.Copies.String(), Bootstrapping: r.Bootstrapping}
		if !r.Hold.IsZero() {
			ro.Hold = r.Hold.String()
		}
		for _, v := range r.Via {
			vo := relayOut{Network: v.Network, PeerHas: v.PeerHas, Candidates: v.Candidates, Discover: v.Discover}
			if vo.Candidates == nil {
				vo.Candidates = []string{}
			}
			if v.PeerManConBelow != envelope.ManConUnset {
				vo.PeerManConBelow = v.PeerManConBelow.String()
			}
			if !v.Delay.IsZero() {
				vo.Delay = v.Delay.String()
			}
			ro.Via = append(ro.Via, vo)
		}
		out.Plan.Routes = append(out.Plan.Routes, ro)
	}
	for _, f := range pl.OnFailure {
		out.Plan.OnFailure = append(out.Plan.OnFailure, fallbackOut{Action: string(f.Action), Peers: f.Peers})
	}
	if err != nil {
		out.NoRoute, out.Error = errors.Is(err, policy.ErrNoRoute), err.Error()
	}
	return out
}

// explainLive asks the daemon to evaluate its policy against its live state.
func explainLive(ctx context.Context, a *app, kind, to, level string, asJSON bool) error {
	if kind == "" {
		return usagef("policy explain needs --kind web, p2p or service")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	ex, err := c.Explain(ctx, kind, to, level)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(a.stdout, ex); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "level %s %s, rule %s\n", ex.Level, ex.Kind, ex.Rule)
		for i, r := range ex.Routes {
			fmt.Fprintf(a.stdout, "route %d: %s\n", i+1, r)
		}
		if len(ex.OnFailure) > 0 {
			fmt.Fprintf(a.stdout, "on failure: %s\n", strings.Join(ex.OnFailure, ", "))
		}
		for _, l := range ex.Explain {
			fmt.Fprintf(a.stdout, "  - %s\n", l)
		}
	}
	if ex.NoRoute {
		return errors.New("no usable route now (see the explanation)")
	}
	return nil
}
