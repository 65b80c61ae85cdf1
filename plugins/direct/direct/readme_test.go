package direct

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "direct" block the way the
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
	src, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README's ```hcl fence is not closed")
	}
	f, diags := hclsyntax.ParseConfig([]byte(src), "README.md", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var found int
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "plugin" || len(b.Labels) != 1 || b.Labels[0] != "direct" {
			continue
		}
		found++
		open, closing := b.OpenBraceRange.End, b.CloseBraceRange.Start
		cfg := base.Config{Filename: "README.md", Start: open, Body: []byte(src[open.Byte:closing.Byte])}
		s, err := parseConfig(cfg)
		if err != nil {
			t.Fatalf("README example does not decode: %v", err)
		}
		if s.listen != "0.0.0.0:4018" || len(s.advertise) != 1 {
			t.Errorf("README example decoded to %+v", s)
		}
	}
	if found != 1 {
		t.Fatalf("found %d plugin \"direct\" blocks in the README, want 1", found)
	}
}
