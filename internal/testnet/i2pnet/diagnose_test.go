package i2pnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiagnoseKeepsLastNotableLines(t *testing.T) {
	dir := t.TempDir()
	r := Router{Name: "r1", Dir: filepath.Join(dir, "r1"), Port: 1234, Floodfill: true}
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	log := strings.Join([]string{
		"00:01@1/info - Transports: first",
		"00:02@1/error - SAM: Read error: End of file",
		"00:03@1/info - Transports: No compatible addresses available",
		"00:04@1/error - I2PControl: RouterInfo unknown request Token",
		"00:05@1/warn - NTCP2: SessionCreated read error: End of file",
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(r.Dir, "stdout.log"), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := Router{Name: "r2", Dir: filepath.Join(dir, "r2")}
	n := &Network{Routers: []Router{r, missing}}
	got := n.Diagnose(2)
	for _, want := range []string{"--- r1 (port 1234, floodfill true", "last 2 notable log lines",
		"No compatible addresses available", "SessionCreated read error", "--- r2", "no such file"} {
		if !strings.Contains(got, want) {
			t.Errorf("Diagnose output lacks %q:\n%s", want, got)
		}
	}
	for _, noise := range []string{"Transports: first", "SAM: Read error", "I2PControl"} {
		if strings.Contains(got, noise) {
			t.Errorf("Diagnose output keeps %q:\n%s", noise, got)
		}
	}
}
