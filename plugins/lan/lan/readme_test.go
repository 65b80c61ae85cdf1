package lan

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "lan" block the way the
// host hands it over, so the documented keys never rot.
func TestREADMEExample(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```hcl\n")
	if !ok {
		t.Fatal("README has no ```hcl fence")
	}
	src, _, _ := strings.Cut(rest, "```")
	f, diags := hclsyntax.ParseConfig([]byte(src), "README.md", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var found int
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "plugin" || len(b.Labels) != 1 || b.Labels[0] != "lan" {
			continue
		}
		found++
		open, closing := b.OpenBraceRange.End, b.CloseBraceRange.Start
		s, err := parseConfig(base.Config{Filename: "README.md", Start: open, Body: []byte(src[open.Byte:closing.Byte])})
		if err != nil {
			t.Fatalf("README example does not decode: %v", err)
		}
		def := defaultSettings()
		if len(s.interfaces) != 2 || s.port != def.port || s.listenPort != def.listenPort || !s.group4.Equal(def.group4) ||
			!s.group6.Equal(def.group6) || s.interval != def.interval || s.rate != def.rate || s.burst != def.burst || s.keepalive != def.keepalive {
			t.Errorf("README example decoded to %+v, defaults %+v", s, def)
		}
	}
	if found != 1 {
		t.Fatalf("found %d plugin \"lan\" blocks, want 1", found)
	}
}
