package tor

import (
	"strings"
	"testing"

	"github.com/onemfive/onemfive/sdk/base"
)

// TestREADMEExample decodes the README's plugin "tor" block the way the
// host hands it over, so the documented keys never rot.
func TestREADMEExample(t *testing.T) {
	cfg, err := base.ExampleBlock("../README.md", "tor")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
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
