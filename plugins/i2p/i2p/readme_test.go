package i2p

import (
	"testing"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "i2p" block the way the
// host hands it over, so the documented keys never rot.
func TestREADMEExample(t *testing.T) {
	cfg, err := base.ExampleBlock("../README.md", "i2p")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	s, err := parseConfig(cfg)
	if err != nil {
		t.Fatalf("README example does not decode: %v", err)
	}
	if !s.managed() || s.i2pd["netid"] != "99" || s.tunnelLength != 3 || s.sessionTimeout.String() != "3m0s" {
		t.Errorf("README example decoded to %+v", s)
	}
	opts := routerOptions(s.i2pd, 1, 2, 3, "pw")
	if opts["reseed.zipfile"] != "/tmp/i2pnet/seed.zip" || opts["sam.port"] != "1" || opts["http.enabled"] != "false" {
		t.Errorf("router options %v", opts)
	}
}
