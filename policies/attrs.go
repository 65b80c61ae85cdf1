package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// networkName is the rule for declared network names, the same as for
// plugin names.
var networkName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

func (d *decoder) attrError(a *hcl.Attribute, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  a.Expr.Range().Ptr(),
		Context:  a.Range.Ptr(),
	})
}

func (d *decoder) value(a *hcl.Attribute) (cty.Value, bool) {
	v, diags := a.Expr.Value(nil)
	d.add(diags)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() || v.IsNull() {
		d.attrError(a, "Invalid "+a.Name, "%s must have a value.", a.Name)
		return cty.NilVal, false
	}
	return v, true
}

func typeName(v cty.Value) string { return "a " + v.Type().FriendlyName() }

func (d *decoder) string(a *hcl.Attribute) (string, bool) {
	v, ok := d.value(a)
	if !ok {
		return "", false
	}
	if v.Type() != cty.String {
		d.attrError(a, "Incorrect attribute value type", "%s must be a string, not %s.", a.Name, typeName(v))
		return "", false
	}
	return v.AsString(), true
}

func (d *decoder) bool(a *hcl.Attribute) (bool, bool) {
	v, ok := d.value(a)
	if !ok {
		return false, false
	}
	if v.Type() != cty.Bool {
		d.attrError(a, "Incorrect attribute value type", "%s must be true or false, not %s.", a.Name, typeName(v))
		return false, false
	}
	return v.True(), true
}

// strings decodes a list of strings.
func (d *decoder) strings(a *hcl.Attribute) ([]string, bool) {
	v, ok := d.value(a)
	if !ok {
		return nil, false
	}
	t := v.Type()
	if !t.IsTupleType() && !t.IsListType() {
		d.attrError(a, "Incorrect attribute value type", "%s must be a list of strings, like [\"tor\"], not %s.", a.Name, typeName(v))
		return nil, false
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			d.attrError(a, "Incorrect attribute value type", "%s must be a list of strings; one element is %s.", a.Name, typeName(e))
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

// stringOrList decodes "x" as ["x"], or a list of strings.
func (d *decoder) stringOrList(a *hcl.Attribute) ([]string, bool) {
	v, diags := a.Expr.Value(nil)
	if !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
		return []string{v.AsString()}, true
	}
	return d.strings(a)
}

// networkList decodes a list of network names; with classes, class names
// expand to their networks. Duplicates are dropped, order kept.
func (d *decoder) networkList(a *hcl.Attribute, classes bool) ([]string, bool) {
	names, ok := d.strings(a)
	if !ok {
		return nil, false
	}
	var out []string
	for _, n := range names {
		var nets []string
		if classes {
			nets = d.p.nets.expand(n)
		} else if d.p.nets.known[n] {
			nets = []string{n}
		}
		if len(nets) == 0 {
			what := "a network"
			known := strings.Join(d.p.nets.order, ", ")
			if classes {
				what, known = "a network or class", d.p.nets.list()
			}
			d.attrError(a, "Unknown network", "%q is not %s; known: %s.", n, what, known)
			ok = false
			continue
		}
		for _, x := range nets {
			if !contains(out, x) {
				out = append(out, x)
			}
		}
	}
	return out, ok
}

func (d *decoder) level(a *hcl.Attribute) (envelope.ManCon, bool) {
	s, ok := d.string(a)
	if !ok {
		return envelope.ManConUnset, false
	}
	m, err := envelope.ParseManCon(s)
	if err != nil {
		d.attrError(a, "Unknown level", "%s.", strings.TrimPrefix(err.Error(), "envelope: "))
		return envelope.ManConUnset, false
	}
	return m, true
}

// intRange decodes a whole number or a "min..max" string.
func (d *decoder) intRange(a *hcl.Attribute, lo, hi int) (IntRange, bool) {
	v, ok := d.value(a)
	if !ok {
		return IntRange{}, false
	}
	var s string
	switch v.Type() {
	case cty.Number:
		bf := v.AsBigFloat()
		if !bf.IsInt() {
			d.attrError(a, "Invalid "+a.Name, "%s must be a whole number.", a.Name)
			return IntRange{}, false
		}
		s = bf.Text('f', 0)
	case cty.String:
		s = v.AsString()
	default:
		d.attrError(a, "Incorrect attribute value type", "%s must be a number or a range like \"3..12\", not %s.", a.Name, typeName(v))
		return IntRange{}, false
	}
	r, err := parseIntRange(s, lo, hi)
	if err != nil {
		d.attrError(a, "Invalid "+a.Name, "%s.", err)
		return IntRange{}, false
	}
	return r, true
}

func (d *decoder) durRange(a *hcl.Attribute) (DurRange, bool) {
	s, ok := d.string(a)
	if !ok {
		return DurRange{}, false
	}
	r, err := parseDurRange(s)
	if err != nil {
		d.attrError(a, "Invalid "+a.Name, "%s.", err)
		return DurRange{}, false
	}
	return r, true
}

func (d *decoder) budget(a *hcl.Attribute) (Budget, bool) {
	s, ok := d.string(a)
	if !ok {
		return Budget{}, false
	}
	if s == "wide" {
		return Budget{Wide: true}, true
	}
	r, err := parseDurRange(s)
	if err != nil {
		d.attrError(a, "Invalid budget", "%s; or \"wide\" for no bound.", err)
		return Budget{}, false
	}
	return Budget{DurRange: r}, true
}
