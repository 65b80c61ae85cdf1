package direct

import (
	"os"
	"testing"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "direct" block the way the
// host hands it over, so the documented keys never rot.
func TestREADMEExample(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := base.ExampleBlocks(doc, "README.md", "direct")
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 {
		t.Fatalf("found %d plugin \"direct\" blocks in the README, want 1", len(blocks))
	}
	cfg := blocks[0]
	cfg.DataDir = t.TempDir()
	s, err := parseConfig(cfg)
	if err != nil {
		t.Fatalf("README example does not decode: %v", err)
	}
	if s.listen != "0.0.0.0:4018" || len(s.advertise) != 1 {
		t.Errorf("README example decoded to %+v", s)
	}
}
