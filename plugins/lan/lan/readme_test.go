package lan

import (
	"os"
	"testing"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "lan" block the way the
// host hands it over, so the documented keys never rot.
func TestREADMEExample(t *testing.T) {
	doc, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := base.ExampleBlocks(doc, "README.md", "lan")
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 {
		t.Fatalf("found %d plugin \"lan\" blocks in the README, want 1", len(blocks))
	}
	cfg := blocks[0]
	cfg.DataDir = t.TempDir()
	s, err := parseConfig(cfg)
	if err != nil {
		t.Fatalf("README example does not decode: %v", err)
	}
	def := defaultSettings()
	if len(s.interfaces) != 2 || s.port != def.port || s.listenPort != def.listenPort || !s.group4.Equal(def.group4) ||
		!s.group6.Equal(def.group6) || s.interval != def.interval || s.rate != def.rate || s.burst != def.burst || s.keepalive != def.keepalive {
		t.Errorf("README example decoded to %+v, defaults %+v", s, def)
	}
}
