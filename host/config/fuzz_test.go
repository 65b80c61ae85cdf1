package config_test

import (
	"os"
	"testing"

	"github.com/onemfive/onemfive/host/config"
)

// FuzzParse checks that no input makes Parse panic, and that whatever it
// accepts is internally consistent: every plugin body lies inside the
// source and decodes (or fails) without panicking.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../config.hcl"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(pluginsSrc))
	f.Add([]byte("plugin \"a\" { enabled = false }\n"))
	f.Add([]byte("api {\n  listen = \"[::1]:2018\"\n  allow_remote = false\n}\n"))
	f.Add([]byte("plugin \"a\" {\n  enabled = (\n true)\n  x = \"\u00e9\"\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := config.Parse(src, "fuzz.hcl", config.Overrides{IgnoreEnv: true})
		if err != nil {
			if c != nil {
				t.Fatal("config and error both returned")
			}
			_ = err.Error()
			return
		}
		seen := map[string]bool{}
		for _, p := range c.Plugins {
			if seen[p.Name] {
				t.Fatalf("duplicate plugin %q accepted", p.Name)
			}
			seen[p.Name] = true
			if p.Block.Start.Byte+len(p.Block.Body) > len(src) {
				t.Fatalf("plugin %q body runs past the source", p.Name)
			}
			var anything struct{}
			_ = p.Block.Decode(&anything)
		}
		if !c.ManCon.Valid() || c.ManCon == 0 {
			t.Fatalf("mancon %v", c.ManCon)
		}
	})
}
