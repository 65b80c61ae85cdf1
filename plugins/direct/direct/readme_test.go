package direct

import (
	"testing"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "direct" block the way the
// host hands it over, so the documented keys never rot.
func TestREADMEExample(t *testing.T) {
	cfg, err := base.ExampleBlock("../README.md", "direct")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	s, err := parseConfig(cfg)
	if err != nil {
		t.Fatalf("README example does not decode: %v", err)
	}
	if s.listen != "0.0.0.0:4018" || len(s.advertise) != 1 {
		t.Errorf("README example decoded to %+v", s)
	}
}
