package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// fileConfig is what the file itself says, before layering and defaults.
type fileConfig struct {
	dataDir, pluginDir string
	mancon             envelope.ManCon
	logLevel           string
	listen             string
	allowRemote        bool
	policies           []string
	plugins            []Plugin
	onion              Onion
	web                Web
}

var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "data_dir"},
		{Name: "plugin_dir"},
		{Name: "mancon"},
		{Name: "log_level"},
		{Name: "policies"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "api"},
		{Type: "onion"},
		{Type: "web"},
		{Type: "plugin", LabelNames: []string{"name"}},
	},
}

var onionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"},
		{Name: "client_only"},
		{Name: "publish"},
		{Name: "guards"},
		{Name: "lease_lifetime"},
		{Name: "observe_log"},
		{Name: "fallback_direct"},
		{Name: "fallback_clearnet"},
		{Name: "probe_interval"},
	},
}

var webSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "listen"},
		{Name: "dial_timeout"},
		{Name: "relay"},
		{Name: "relay_networks"},
	},
}

var apiSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "listen"},
		{Name: "allow_remote"},
	},
}

// pluginName is the rule for plugin names, the same one the registry applies
// to binaries: lowercase letters, digits and inner hyphens.
var pluginName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

// decodeFile parses and decodes src. It returns nil only on syntax errors;
// otherwise the fileConfig holds whatever could be decoded and diags every
// problem found.
func decodeFile(src []byte, filename string) (*fileConfig, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	content, d := f.Body.Content(rootSchema)
	diags = append(diags, d...)
	fc := &fileConfig{onion: DefaultOnion()}

	if a := content.Attributes["data_dir"]; a != nil {
		fc.dataDir, d = nonEmptyString(a)
		diags = append(diags, d...)
	}
	if a := content.Attributes["plugin_dir"]; a != nil {
		fc.pluginDir, d = nonEmptyString(a)
		diags = append(diags, d...)
	}
	if a := content.Attributes["mancon"]; a != nil {
		s, d := stringAttr(a)
		diags = append(diags, d...)
		if !d.HasErrors() {
			m, err := envelope.ParseManCon(s)
			if err != nil {
				diags = append(diags, attrError(a, "Invalid mancon", strings.TrimPrefix(err.Error(), "envelope: ")))
			} else {
				fc.mancon = m
			}
		}
	}
	if a := content.Attributes["log_level"]; a != nil {
		s, d := stringAttr(a)
		diags = append(diags, d...)
		if !d.HasErrors() {
			lvl, err := checkLogLevel(s)
			if err != nil {
				diags = append(diags, attrError(a, "Invalid log_level", err.Error()))
			} else {
				fc.logLevel = lvl
			}
		}
	}

	if a := content.Attributes["policies"]; a != nil {
		fc.policies, d = stringList(a)
		diags = append(diags, d...)
	}

	// The syntax blocks, to find each plugin block's braces.
	syntax := map[int]*hclsyntax.Block{}
	if sb, ok := f.Body.(*hclsyntax.Body); ok {
		for _, b := range sb.Blocks {
			syntax[b.TypeRange.Start.Byte] = b
		}
	}

	// Blocks that may appear once: the first one's position, by type.
	single := map[string]*hcl.Range{}
	once := func(blk *hcl.Block) bool {
		if first := single[blk.Type]; first != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate " + blk.Type + " block",
				Detail:   fmt.Sprintf("The %s block was already defined at %s.", blk.Type, posString(*first)),
				Subject:  blk.DefRange.Ptr(),
			})
			return false
		}
		single[blk.Type] = blk.DefRange.Ptr()
		return true
	}
	names := map[string]hcl.Range{}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "onion":
			if once(blk) {
				diags = append(diags, decodeOnion(blk, &fc.onion)...)
			}
		case "web":
			if once(blk) {
				diags = append(diags, decodeWeb(blk, &fc.web)...)
			}
		case "api":
			if once(blk) {
				diags = append(diags, decodeAPI(blk, fc)...)
			}
		case "plugin":
			name := blk.Labels[0]
			if !pluginName.MatchString(name) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid plugin name",
					Detail:   fmt.Sprintf("Plugin name %q must be lowercase letters, digits and inner hyphens, at most 64 characters.", name),
					Subject:  blk.LabelRanges[0].Ptr(),
				})
				continue
			}
			if first, dup := names[name]; dup {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate plugin block",
					Detail:   fmt.Sprintf("Plugin %q was already configured at %s; merge the two blocks.", name, posString(first)),
					Subject:  blk.DefRange.Ptr(),
				})
				continue
			}
			names[name] = blk.DefRange
			p, d := decodePlugin(src, blk, syntax[blk.TypeRange.Start.Byte])
			diags = append(diags, d...)
			fc.plugins = append(fc.plugins, p)
		}
	}
	return fc, diags
}

func decodeWeb(blk *hcl.Block, w *Web) hcl.Diagnostics {
	content, diags := blk.Body.Content(webSchema)
	if a := content.Attributes["listen"]; a != nil {
		s, d := stringAttr(a)
		diags = append(diags, d...)
		if !d.HasErrors() {
			// The proxy is for local applications only, like the API.
			if err := checkListen(s, false); err != nil {
				diags = append(diags, attrError(a, "Invalid web.listen", err.Error()))
			} else {
				w.Listen = s
			}
		}
	}
	if a := content.Attributes["relay"]; a != nil {
		b, d := boolAttr(a)
		diags = append(diags, d...)
		w.Relay = b
	}
	if a := content.Attributes["relay_networks"]; a != nil {
		l, d := stringList(a)
		diags = append(diags, d...)
		if !d.HasErrors() && len(l) == 0 {
			diags = append(diags, attrError(a, "Invalid web.relay_networks", "The list is empty; leave relay = false instead."))
		}
		w.RelayNetworks = l
	}
	if a := content.Attributes["dial_timeout"]; a != nil {
		diags = append(diags, durationAttr(a, "web.dial_timeout", "60s", time.Second, 10*time.Minute, &w.DialTimeout)...)
	}
	return diags
}

func decodeAPI(blk *hcl.Block, fc *fileConfig) hcl.Diagnostics {
	content, diags := blk.Body.Content(apiSchema)
	if a := content.Attributes["allow_remote"]; a != nil {
		b, d := boolAttr(a)
		diags = append(diags, d...)
		fc.allowRemote = b
	}
	if a := content.Attributes["listen"]; a != nil {
		s, d := stringAttr(a)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if err := checkListen(s, fc.allowRemote); err != nil {
				diags = append(diags, attrError(a, "Invalid api.listen", err.Error()))
			} else {
				fc.listen = s
			}
		}
	}
	return diags
}

func decodeOnion(blk *hcl.Block, o *Onion) hcl.Diagnostics {
	content, diags := blk.Body.Content(onionSchema)
	for name, dst := range map[string]*bool{"enabled": &o.Enabled, "client_only": &o.ClientOnly,
		"publish": &o.Publish, "fallback_direct": &o.FallbackDirect,
		"fallback_clearnet": &o.FallbackClearnet} {
		if a := content.Attributes[name]; a != nil {
			b, d := boolAttr(a)
			diags = append(diags, d...)
			if !d.HasErrors() {
				*dst = b
			}
		}
	}
	if a := content.Attributes["guards"]; a != nil {
		g, d := stringList(a)
		diags = append(diags, d...)
		for _, id := range g {
			if _, _, err := node.ParseID(id); err != nil {
				diags = append(diags, attrError(a, "Invalid onion.guards", fmt.Sprintf("%q is not a node id: %v.", id, err)))
			}
		}
		o.Guards = g
	}
	if a := content.Attributes["lease_lifetime"]; a != nil {
		diags = append(diags, durationAttr(a, "onion.lease_lifetime", "10m", 30*time.Second, 24*time.Hour, &o.LeaseLifetime)...)
	}
	if a := content.Attributes["probe_interval"]; a != nil {
		diags = append(diags, durationAttr(a, "onion.probe_interval", "5s", 100*time.Millisecond, time.Hour, &o.ProbeInterval)...)
	}
	if a := content.Attributes["observe_log"]; a != nil {
		o.ObserveLog, diags = nonEmptyString(a)
	}
	return diags
}

// decodePlugin reads the host's `enabled` attribute and captures the rest of
// the body, with its position, for the plugin. sb is the syntax block blk
// was decoded from.
func decodePlugin(src []byte, blk *hcl.Block, sb *hclsyntax.Block) (Plugin, hcl.Diagnostics) {
	p := Plugin{Name: blk.Labels[0], Enabled: true}
	var start hcl.Pos
	end := -1
	if sb != nil {
		start, end = sb.OpenBraceRange.End, sb.CloseBraceRange.Start.Byte
	}
	if sb == nil || sb.Body == nil || start.Byte < 0 || end < start.Byte || end > len(src) {
		// Cannot happen for a file without syntax errors; kept so that a
		// parser change turns into a message rather than a panic.
		return p, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Malformed plugin block",
			Detail:   "Cannot locate the body of this block.",
			Subject:  blk.DefRange.Ptr(),
		}}
	}
	body := append([]byte(nil), src[start.Byte:end]...)

	var diags hcl.Diagnostics
	if a, ok := sb.Body.Attributes["enabled"]; ok {
		b, d := boolAttr(a.AsHCLAttribute())
		diags = append(diags, d...)
		if !d.HasErrors() {
			p.Enabled = b
		}
		blank(body, a.SrcRange.Start.Byte-start.Byte, a.SrcRange.End.Byte-start.Byte)
	}
	p.Block = base.Config{Filename: blk.DefRange.Filename, Start: start, Body: body}
	return p, diags
}

// blank replaces b[from:to] with spaces, keeping line breaks, so that the
// positions of everything else in b stay the same.
func blank(b []byte, from, to int) {
	if from < 0 || to > len(b) || from > to {
		return
	}
	for i := from; i < to; i++ {
		if b[i] != '\n' && b[i] != '\r' {
			b[i] = ' '
		}
	}
}

func stringAttr(a *hcl.Attribute) (string, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", hcl.Diagnostics{attrError(a, "Incorrect attribute value type",
			fmt.Sprintf("%s must be a string, not %s.", a.Name, typeName(v)))}
	}
	return v.AsString(), nil
}

// stringList decodes a list of non-empty strings.
func stringList(a *hcl.Attribute) ([]string, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return nil, diags
	}
	if !v.IsKnown() || v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType()) {
		return nil, hcl.Diagnostics{attrError(a, "Incorrect attribute value type",
			fmt.Sprintf("%s must be a list of strings, not %s.", a.Name, typeName(v)))}
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsKnown() || e.IsNull() || e.Type() != cty.String || e.AsString() == "" {
			return nil, hcl.Diagnostics{attrError(a, "Incorrect attribute value type",
				fmt.Sprintf("%s must be a list of non-empty strings.", a.Name))}
		}
		out = append(out, e.AsString())
	}
	return out, nil
}

func nonEmptyString(a *hcl.Attribute) (string, hcl.Diagnostics) {
	s, diags := stringAttr(a)
	if !diags.HasErrors() && s == "" {
		diags = append(diags, attrError(a, "Empty "+a.Name, a.Name+" must not be empty; remove the line to use the default."))
	}
	return s, diags
}

func boolAttr(a *hcl.Attribute) (bool, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return false, diags
	}
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.Bool {
		return false, hcl.Diagnostics{attrError(a, "Incorrect attribute value type",
			fmt.Sprintf("%s must be true or false, not %s.", a.Name, typeName(v)))}
	}
	return v.True(), nil
}

func typeName(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "an unknown value"
	case v.IsNull():
		return "null"
	default:
		return "a " + v.Type().FriendlyName()
	}
}

func attrError(a *hcl.Attribute, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  a.Expr.Range().Ptr(),
		Context:  a.Range.Ptr(),
	}
}

func posString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// durationAttr decodes a duration attribute within lo..hi into dst; name
// and example go into the error.
func durationAttr(a *hcl.Attribute, name, example string, lo, hi time.Duration, dst *time.Duration) hcl.Diagnostics {
	s, diags := stringAttr(a)
	if diags.HasErrors() {
		return diags
	}
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return append(diags, attrError(a, "Invalid "+name, fmt.Sprintf("%q is not a duration such as %q.", s, example)))
	case v < lo || v > hi:
		return append(diags, attrError(a, "Invalid "+name, fmt.Sprintf("%s is outside %s..%s.", v, fmtDur(lo), fmtDur(hi))))
	}
	*dst = v
	return diags
}

// fmtDur writes a bound as people write it: 1s, 10m, 24h, 100ms.
func fmtDur(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"h0m0s", "m0s"} {
		if strings.HasSuffix(s, suffix) {
			return strings.TrimSuffix(s, suffix[1:])
		}
	}
	return s
}
