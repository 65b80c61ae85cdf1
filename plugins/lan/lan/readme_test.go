package lan

import (
	"testing"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "lan" block the way the
// host hands it over, so the documented keys never rot.
func TestREADMEExample(t *testing.T) {
	cfg, err := base.ExampleBlock("../README.md", "lan")
	if err != nil {
		t.Fatal(err)
	}
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
