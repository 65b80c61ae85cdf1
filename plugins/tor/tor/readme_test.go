package tor

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "tor" block the way the
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
	found := 0
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "plugin" || len(b.Labels) != 1 || b.Labels[0] != "tor" {
			continue
		}
		found++
		open, closing := b.OpenBraceRange.End, b.CloseBraceRange.Start
		cfg := base.Config{Filename: "README.md", Start: open, Body: []byte(src[open.Byte:closing.Byte]), DataDir: t.TempDir()}
		s, err := parseConfig(cfg)
		if err != nil {
			t.Fatalf("README example does not decode: %v", err)
		}
		lines := strings.Join(s.torrcLines(), "\n")
		for _, want := range []string{"UseBridges 1", "Bridge obfs4 192.0.2.10:443", "ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy"} {
			if !strings.Contains(lines, want) {
				t.Errorf("torrc lines lack %q:\n%s", want, lines)
			}
		}
	}
	if found != 1 {
		t.Fatalf("found %d plugin \"tor\" blocks, want 1", found)
	}
}
