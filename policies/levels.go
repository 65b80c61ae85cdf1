package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// levelDef records where a level was defined, for duplicate messages.
type levelDef struct {
	pos   hcl.Range // the level block
	label string    // its label as written: "HIGH" or "LOW..HIGH"
}

// labelProblem is one fault in a level block's label: the diagnostic, and
// the bytes [start, end) of the label text it is about; start < 0 means the
// whole label, quotes included.
type labelProblem struct {
	summary, detail string
	start, end      int
}

const levelOrder = "LOW, MEDIUM, HIGH, VERYHIGH, EXTREME, NEO"

// parseLevelLabel reads a level block's label: one level ("HIGH") or an
// inclusive range of levels in increasing order ("LOW..HIGH"), names
// case-insensitive as everywhere else. It is pure so that it can be tested
// and fuzzed apart from HCL.
func parseLevelLabel(s string) (lo, hi envelope.ManCon, probs []labelProblem) {
	whole := func(summary, format string, a ...any) []labelProblem {
		return []labelProblem{{summary, fmt.Sprintf(format, a...), -1, -1}}
	}
	if strings.TrimSpace(s) == "" {
		return 0, 0, whole("Missing level name", "Name a level, like \"HIGH\", or a range of levels, like \"LOW..HIGH\".")
	}
	if strings.Count(s, "..") > 1 {
		return 0, 0, whole("Invalid level range", "%q has more than one \"..\"; a range names only its lowest and highest level, like \"LOW..HIGH\".", s)
	}
	a, b, isRange := strings.Cut(s, "..")
	if !isRange {
		m, err := envelope.ParseManCon(s)
		if err != nil {
			return 0, 0, whole("Unknown level", "%s.", strings.TrimPrefix(err.Error(), "envelope: "))
		}
		return m, m, nil
	}
	if strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" {
		return 0, 0, whole("Incomplete level range", "%q needs a level on each side of \"..\", like \"LOW..HIGH\" or \"VERYHIGH..NEO\".", s)
	}
	part := func(text string, at int) envelope.ManCon {
		m, err := envelope.ParseManCon(text)
		if err != nil {
			start := at + len(text) - len(strings.TrimLeft(text, " \t"))
			end := at + len(strings.TrimRight(text, " \t"))
			probs = append(probs, labelProblem{"Unknown level", fmt.Sprintf("In range %q: %s.", s, strings.TrimPrefix(err.Error(), "envelope: ")), start, end})
		}
		return m
	}
	lo, hi = part(a, 0), part(b, len(a)+len(".."))
	if probs != nil {
		return 0, 0, probs
	}
	if lo > hi {
		return 0, 0, whole("Reversed level range", "%q runs from %s down to %s and so covers no level; levels rise %s, so write \"%s..%s\".", s, lo, hi, levelOrder, hi, lo)
	}
	return lo, hi, nil
}

// labelPart narrows a label's range (which includes its quotes) to the
// bytes [start, end) of its text. That is only exact when the label was
// written as plain ASCII on one line with no escapes, so that bytes of the
// text are columns of the source; otherwise the whole label is returned.
func labelPart(r hcl.Range, label string, start, end int) hcl.Range {
	plain := r.Start.Line == r.End.Line && r.End.Byte-r.Start.Byte == len(label)+2
	for i := 0; plain && i < len(label); i++ {
		plain = label[i] >= 0x20 && label[i] < 0x7f
	}
	if !plain || start < 0 || end > len(label) || start >= end {
		return r
	}
	out := r
	out.Start.Byte, out.Start.Column = r.Start.Byte+1+start, r.Start.Column+1+start
	out.End.Byte, out.End.Column = r.Start.Byte+1+end, r.Start.Column+1+end
	return out
}

// levelBlock decodes one level block. A block whose label is a range is
// decoded once, and each level in the range gets its own *Level with the
// same budget and routes (the *Route values are shared: a Policy is
// immutable) and Pos at the block, so evaluation, explanations and the
// ratchet see six levels whatever way they were written.
func (d *decoder) levelBlock(b *hcl.Block) {
	label := b.Labels[0]
	lo, hi, probs := parseLevelLabel(label)
	for _, p := range probs {
		d.errorf(labelPart(b.LabelRanges[0], label, p.start, p.end), p.summary, "%s", p.detail)
	}
	if len(probs) > 0 {
		return
	}
	fresh := d.claimLevels(b, label, lo, hi)
	if len(fresh) == 0 {
		return
	}
	c, diags := b.Body.Content(levelSchema)
	d.add(diags)
	l := &Level{ManCon: fresh[0], Pos: b.DefRange}
	if a := c.Attributes["budget"]; a != nil {
		l.Budget, _ = d.budget(a)
	}
	for _, rb := range c.Blocks {
		r := d.route(rb, l)
		if r == nil {
			continue
		}
		if r.Kind == envelope.KindWeb {
			l.Web = append(l.Web, r)
		} else {
			l.P2P = append(l.P2P, r)
		}
	}
	d.checkRoutes(b, l.Web, "web")
	d.checkRoutes(b, l.P2P, "p2p")
	for _, m := range fresh {
		lm := *l
		lm.ManCon, lm.Web, lm.P2P = m, slices.Clone(l.Web), slices.Clone(l.P2P)
		d.p.Levels[m] = &lm
	}
}

// claimLevels records the block as the definition of levels lo..hi and
// returns those not defined before. Levels already defined are reported,
// one error per earlier block, naming that block's position and label.
func (d *decoder) claimLevels(b *hcl.Block, label string, lo, hi envelope.ManCon) []envelope.ManCon {
	var fresh []envelope.ManCon
	var firsts []levelDef
	dups := map[hcl.Range][]string{}
	for m := lo; m <= hi; m++ {
		first, dup := d.levelAt[m]
		if !dup {
			fresh = append(fresh, m)
			continue
		}
		if dups[first.pos] == nil {
			firsts = append(firsts, first)
		}
		dups[first.pos] = append(dups[first.pos], m.String())
	}
	for _, first := range firsts {
		names := dups[first.pos]
		what := fmt.Sprintf("Level %s was", names[0])
		if len(names) > 1 {
			what = fmt.Sprintf("Levels %s were", strings.Join(names, ", "))
		}
		by := ""
		if lo != hi || strings.Contains(first.label, "..") {
			by = fmt.Sprintf(" by level %q", first.label)
		}
		d.errorf(b.DefRange, "Duplicate level block", "%s already defined at %s%s.", what, Pos(first.pos), by)
	}
	for _, m := range fresh {
		d.levelAt[m] = levelDef{pos: b.DefRange, label: label}
	}
	return fresh
}

// checkRoutes wants exactly one catch-all route per kind, and it last.
func (d *decoder) checkRoutes(b *hcl.Block, routes []*Route, kind string) {
	var catchAll *Route
	for _, r := range routes {
		if catchAll != nil {
			d.errorf(r.Pos, "Unreachable route", "The %s block at %s has no match and catches every destination, so this one is never used; put the catch-all last.", kind, Pos(catchAll.Pos))
			continue
		}
		if len(r.Match) == 0 {
			catchAll = r
		}
	}
	if catchAll == nil {
		who := "Level " + b.Labels[0] + " needs"
		if strings.Contains(b.Labels[0], "..") {
			who = "Levels " + b.Labels[0] + " need"
		}
		d.errorf(b.DefRange, "Missing catch-all "+kind+" route", "%s a %s block without match, for destinations no other %s block matches.", who, kind, kind)
	}
}
