package policy

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/onemfive/onemfive/sdk/envelope"
)

var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "default_level"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "network", LabelNames: []string{"name"}},
		{Type: "level", LabelNames: []string{"name"}}, // "HIGH", or a range "LOW..HIGH"
		{Type: "escalate"},
		{Type: "ratchet"},
	},
}

var networkSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "classes", Required: true}}}

var ratchetSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "decay_after", Required: true}}}

var escalateSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "when_blocked", Required: true},
	{Name: "to", Required: true},
}}

var levelSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "budget"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "web"}, {Type: "p2p"}},
}

// stepAttrs are shared by routes (as defaults for their steps) and steps.
var stepAttrs = []hcl.AttributeSchema{
	{Name: "hops"}, {Name: "hop_networks"}, {Name: "delay"}, {Name: "hold"}, {Name: "copies"},
}

var routeSchema = &hcl.BodySchema{
	Attributes: append([]hcl.AttributeSchema{{Name: "match"}, {Name: "on_failure"}, {Name: "budget"}}, stepAttrs...),
	Blocks:     []hcl.BlockHeaderSchema{{Type: "step", LabelNames: []string{"network"}}},
}

var stepSchema = &hcl.BodySchema{
	Attributes: stepAttrs,
	Blocks:     []hcl.BlockHeaderSchema{{Type: "via"}},
}

var viaSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "network"}, {Name: "peer_has"}, {Name: "peer_mancon_below"}, {Name: "discover"}, {Name: "delay"},
}}

// Limits on counts, so that a policy cannot ask for absurd work.
const (
	maxHops   = 16
	maxCopies = 64
)

type decoder struct {
	diags hcl.Diagnostics
	p     *Policy
	// first definitions, for duplicate messages
	levelAt   map[envelope.ManCon]levelDef
	networkAt map[string]hcl.Range
	ratchetAt *hcl.Range
	defaultAt *hcl.Range
}

func (d *decoder) add(diags hcl.Diagnostics) { d.diags = append(d.diags, diags...) }

func (d *decoder) errorf(subject hcl.Range, summary, format string, a ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, a...),
		Subject:  subject.Ptr(),
	})
}

type source struct {
	src      []byte
	filename string
}

// decode parses every source and decodes them as one policy.
func decode(srcs []source) (*Policy, hcl.Diagnostics) {
	d := &decoder{
		p:         &Policy{Default: envelope.HIGH, Decay: DefaultDecay, nets: newNetworks()},
		levelAt:   map[envelope.ManCon]levelDef{},
		networkAt: map[string]hcl.Range{},
	}
	var contents []*hcl.BodyContent
	for _, s := range srcs {
		f, diags := hclsyntax.ParseConfig(s.src, s.filename, hcl.InitialPos)
		d.add(diags)
		if diags.HasErrors() {
			continue
		}
		c, diags := f.Body.Content(rootSchema)
		d.add(diags)
		contents = append(contents, c)
	}
	if d.diags.HasErrors() && len(contents) < len(srcs) {
		return nil, d.diags // syntax errors: positions past them mean little
	}
	// Networks first: any file may use a network another file declares.
	for _, c := range contents {
		for _, b := range c.Blocks {
			if b.Type == "network" {
				d.network(b)
			}
		}
	}
	for _, c := range contents {
		if a := c.Attributes["default_level"]; a != nil {
			if d.defaultAt != nil {
				d.errorf(a.NameRange, "Duplicate default_level", "default_level was already set at %s.", Pos(*d.defaultAt))
			} else {
				d.defaultAt = a.NameRange.Ptr()
				if m, ok := d.level(a); ok {
					d.p.Default = m
				}
			}
		}
		for _, b := range c.Blocks {
			switch b.Type {
			case "level":
				d.levelBlock(b)
			case "escalate":
				d.escalate(b)
			case "ratchet":
				d.ratchet(b)
			}
		}
	}
	d.complete(srcs)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return d.p, d.diags
}

// complete checks that every level is defined.
func (d *decoder) complete(srcs []source) {
	var missing []string
	for m := envelope.LOW; m <= envelope.NEO; m++ {
		if d.p.Levels[m] == nil {
			missing = append(missing, m.String())
		}
	}
	if len(missing) == 0 || d.diags.HasErrors() && len(d.levelAt) == 0 {
		return
	}
	name := "<no file>"
	if len(srcs) > 0 {
		name = srcs[0].filename
	}
	r := hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}
	d.errorf(r, "Missing levels", "Every level needs a level block, alone or in a range like \"LOW..HIGH\"; missing: %s.", strings.Join(missing, ", "))
}

func (d *decoder) network(b *hcl.Block) {
	c, diags := b.Body.Content(networkSchema)
	d.add(diags)
	name := b.Labels[0]
	switch {
	case !networkName.MatchString(name):
		d.errorf(b.LabelRanges[0], "Invalid network name", "Network name %q must be lowercase letters, digits and inner hyphens.", name)
		return
	case d.p.nets.isName(name) && d.networkAt[name] == (hcl.Range{}):
		d.errorf(b.LabelRanges[0], "Network already known", "%q is a built-in network or class; only new networks can be declared.", name)
		return
	case d.networkAt[name] != (hcl.Range{}):
		d.errorf(b.LabelRanges[0], "Duplicate network block", "Network %q was already declared at %s.", name, Pos(d.networkAt[name]))
		return
	}
	a := c.Attributes["classes"]
	if a == nil {
		return
	}
	classes, ok := d.strings(a)
	if !ok {
		return
	}
	for _, cl := range classes {
		if !contains(builtinClasses, cl) {
			d.attrError(a, "Unknown network class", "%q is not a class; classes are %s.", cl, strings.Join(builtinClasses, ", "))
			return
		}
	}
	d.networkAt[name] = b.DefRange
	d.p.nets.add(name, classes)
}

func (d *decoder) ratchet(b *hcl.Block) {
	if d.ratchetAt != nil {
		d.errorf(b.DefRange, "Duplicate ratchet block", "The ratchet block was already defined at %s.", Pos(*d.ratchetAt))
		return
	}
	d.ratchetAt = b.DefRange.Ptr()
	c, diags := b.Body.Content(ratchetSchema)
	d.add(diags)
	if a := c.Attributes["decay_after"]; a != nil {
		if s, ok := d.string(a); ok {
			v, err := parseDuration(s)
			switch {
			case err != nil:
				d.attrError(a, "Invalid decay_after", "%s.", err)
			case v == 0:
				d.attrError(a, "Invalid decay_after", "decay_after must be longer than zero.")
			default:
				d.p.Decay = v
			}
		}
	}
}

func (d *decoder) escalate(b *hcl.Block) {
	c, diags := b.Body.Content(escalateSchema)
	d.add(diags)
	e := Escalation{Pos: b.DefRange}
	ok := true
	if a := c.Attributes["when_blocked"]; a != nil {
		e.WhenBlocked, ok = d.networkList(a, true)
		if ok && len(e.WhenBlocked) == 0 {
			d.attrError(a, "Empty when_blocked", "Name at least one network.")
			ok = false
		}
	}
	if a := c.Attributes["to"]; a != nil {
		m, lok := d.level(a)
		e.To, ok = m, ok && lok
	}
	if ok && !diags.HasErrors() {
		d.p.Escalations = append(d.p.Escalations, e)
	}
}

func (d *decoder) route(b *hcl.Block, l *Level) *Route {
	c, diags := b.Body.Content(routeSchema)
	d.add(diags)
	r := &Route{Kind: envelope.Kind(b.Type), Budget: l.Budget, Pos: b.DefRange}
	if a := c.Attributes["match"]; a != nil {
		pats, ok := d.strings(a)
		for _, p := range pats {
			p = strings.ToLower(p)
			if _, err := path.Match(p, ""); err != nil || p == "" {
				d.attrError(a, "Invalid match pattern", "%q is not a host pattern like \"*.i2p\".", p)
				ok = false
				continue
			}
			r.Match = append(r.Match, p)
		}
		if ok && len(r.Match) == 0 {
			d.attrError(a, "Empty match", "Remove match to catch every destination.")
		}
		if !ok && len(r.Match) == 0 {
			r.Match = []string{"<invalid>"} // not a catch-all: no second error about ordering
		}
	}
	if a := c.Attributes["budget"]; a != nil {
		r.Budget, _ = d.budget(a)
	}
	r.OnFailure = []Action{GiveUp}
	if r.Kind == envelope.KindWeb {
		r.OnFailure = []Action{SiteDown}
	}
	if a := c.Attributes["on_failure"]; a != nil {
		if acts, ok := d.onFailure(a); ok {
			r.OnFailure = acts
		}
	}
	defaults := d.stepValues(c.Attributes, &Step{Copies: IntRange{1, 1}})
	for _, sb := range c.Blocks {
		if s := d.step(sb, defaults); s != nil {
			r.Steps = append(r.Steps, s)
		}
	}
	if len(c.Blocks) == 0 {
		d.errorf(b.DefRange, "Empty chain", "A %s block needs at least one step block.", b.Type)
	}
	return r
}

func (d *decoder) onFailure(a *hcl.Attribute) ([]Action, bool) {
	names, ok := d.stringOrList(a)
	if !ok {
		return nil, false
	}
	if len(names) == 0 {
		d.attrError(a, "Empty on_failure", "Name at least one of %s.", actionList())
		return nil, false
	}
	var out []Action
	for i, n := range names {
		act := Action(n)
		if !containsAction(actions, act) {
			d.attrError(a, "Unknown on_failure action", "%q is not one of %s.", n, actionList())
			return nil, false
		}
		if containsAction(out, act) {
			d.attrError(a, "Duplicate on_failure action", "%q is listed twice.", n)
			return nil, false
		}
		if (act == SiteDown || act == GiveUp) && i != len(names)-1 {
			d.attrError(a, "Unreachable on_failure action", "%q ends the request, so the actions after it never run.", n)
			return nil, false
		}
		out = append(out, act)
	}
	return out, true
}

func actionList() string {
	s := make([]string, len(actions))
	for i, a := range actions {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func containsAction(list []Action, a Action) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// stepValues decodes the attributes steps share into a copy of base.
func (d *decoder) stepValues(attrs hcl.Attributes, base *Step) *Step {
	s := *base
	if a := attrs["hops"]; a != nil {
		if v, ok := d.intRange(a, 0, maxHops); ok {
			s.Hops = v
		}
	}
	if a := attrs["copies"]; a != nil {
		if v, ok := d.intRange(a, 1, maxCopies); ok {
			s.Copies = v
		}
	}
	if a := attrs["hop_networks"]; a != nil {
		if v, ok := d.networkList(a, true); ok {
			s.HopNetworks = v
		}
	}
	if a := attrs["delay"]; a != nil {
		s.Delay, _ = d.durRange(a)
	}
	if a := attrs["hold"]; a != nil {
		s.Hold, _ = d.durRange(a)
	}
	return &s
}

func (d *decoder) step(b *hcl.Block, defaults *Step) *Step {
	c, diags := b.Body.Content(stepSchema)
	d.add(diags)
	target := b.Labels[0]
	if !d.p.nets.isName(target) {
		d.errorf(b.LabelRanges[0], "Unknown network", "%q is not a network or class; known: %s.", target, d.p.nets.list())
		return nil
	}
	s := d.stepValues(c.Attributes, defaults)
	s.Target, s.Pos, s.Via = target, b.DefRange, nil
	for i, vb := range c.Blocks {
		v := d.via(vb)
		if i == 0 && v.Network != "" {
			d.errorf(v.Pos, "Network on first via", "The first peer is reached over the step's network (%s); remove network here.", target)
		}
		s.Via = append(s.Via, v)
	}
	return s
}

func (d *decoder) via(b *hcl.Block) *Via {
	c, diags := b.Body.Content(viaSchema)
	d.add(diags)
	v := &Via{Pos: b.DefRange}
	if a := c.Attributes["network"]; a != nil {
		if s, ok := d.string(a); ok {
			if !d.p.nets.known[s] {
				d.attrError(a, "Unknown network", "%q is not a network; known: %s.", s, strings.Join(d.p.nets.order, ", "))
			}
			v.Network = s
		}
	}
	if a := c.Attributes["peer_has"]; a != nil {
		v.PeerHas, _ = d.networkList(a, false)
	}
	if a := c.Attributes["peer_mancon_below"]; a != nil {
		if m, ok := d.level(a); ok {
			if m == envelope.LOW {
				d.attrError(a, "Invalid peer_mancon_below", "No level is below LOW.")
			}
			v.PeerManConBelow = m
		}
	}
	if a := c.Attributes["discover"]; a != nil {
		v.Discover, _ = d.bool(a)
	}
	if a := c.Attributes["delay"]; a != nil {
		v.Delay, _ = d.durRange(a)
	}
	return v
}
