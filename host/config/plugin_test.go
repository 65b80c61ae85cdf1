package config_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/host/config"
)

// directConfig stands in for a plugin's own schema.
type directConfig struct {
	Listen    string `hcl:"listen"`
	Keepalive string `hcl:"keepalive,optional"`
	MaxQueue  int    `hcl:"max_queue,optional"`
}

const pluginsSrc = `# two plugins
plugin "direct" {
  enabled  = false
  listen   = "127.0.0.1:4018"
  max_queue = 64
}

plugin "tor" {
  listen = "127.0.0.1:9050" # enabled by default
  bogus  = 1
  keepalive = 5
}
plugin "one" { enabled = true }
plugin "multi" {
  enabled = (
    true
  )
  listen = "x"
}
`

func parsePlugins(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(pluginsSrc), "/etc/onemfive/config.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPluginBlocks(t *testing.T) {
	c := parsePlugins(t)
	var names []string
	for _, p := range c.Plugins {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "direct,tor,one,multi" {
		t.Fatalf("plugins in order = %v", names)
	}
	d, _ := c.Plugin("direct")
	if d.Enabled {
		t.Error("direct: enabled = false was not read")
	}
	if bytes.Contains(d.Block.Body, []byte("enabled")) {
		t.Errorf("direct body still holds enabled: %q", d.Block.Body)
	}
	if d.Block.Filename != "/etc/onemfive/config.hcl" || d.Block.Start.Line != 2 || d.Block.Start.Column != 18 || d.Block.Start.Byte != len("# two plugins\nplugin \"direct\" {") {
		t.Errorf("direct block start = %+v", d.Block.Start)
	}
	var dc directConfig
	if err := d.Block.Decode(&dc); err != nil {
		t.Fatalf("plugin-side decode: %v", err)
	}
	if dc.Listen != "127.0.0.1:4018" || dc.MaxQueue != 64 {
		t.Errorf("direct decoded = %+v", dc)
	}

	one, _ := c.Plugin("one")
	if !one.Enabled || strings.TrimSpace(string(one.Block.Body)) != "" {
		t.Errorf("one = %+v body %q", one, one.Block.Body)
	}

	m, _ := c.Plugin("multi")
	if !m.Enabled {
		t.Error("multi: multi-line enabled not read")
	}
	var mc struct {
		Listen string `hcl:"listen"`
	}
	if err := m.Block.Decode(&mc); err != nil || mc.Listen != "x" {
		t.Errorf("multi decode = %+v, %v (body %q)", mc, err, m.Block.Body)
	}
	if strings.Count(string(m.Block.Body), "\n") != strings.Count("\n  enabled = (\n    true\n  )\n  listen = \"x\"\n", "\n") {
		t.Errorf("blanking changed the line count: %q", m.Block.Body)
	}
}

func TestPluginDecodeErrorsPointIntoOuterFile(t *testing.T) {
	c := parsePlugins(t)
	tor, _ := c.Plugin("tor")
	if !tor.Enabled {
		t.Error("tor: enabled should default to true")
	}
	var tc directConfig
	err := tor.Block.Decode(&tc)
	if err == nil {
		t.Fatal("decode of a block with an unknown key succeeded")
	}
	// bogus is on line 10, column 3 of the outer file. hcl formats
	// positions as line,col.
	for _, w := range []string{"/etc/onemfive/config.hcl:10,3-8", `"bogus"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("plugin decode error %q does not contain %q", err, w)
		}
	}
	// A value error in a plugin block also keeps its position.
	src := "plugin \"p\" {\n  enabled = true\n  max_queue = \"many\"\n  listen = \"l\"\n}\n"
	c2, err := config.Parse([]byte(src), "c.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c2.Plugin("p")
	err = p.Block.Decode(&tc)
	if err == nil || !strings.Contains(err.Error(), "c.hcl:3,16") {
		t.Errorf("value error = %v, want position c.hcl:3,16 (inside the string)", err)
	}
	if err != nil && strings.Contains(err.Error(), "enabled") {
		t.Errorf("plugin saw the host's enabled attribute: %v", err)
	}
}

// The host hands over the raw body without judging it.
func TestPluginBodyNotValidatedByHost(t *testing.T) {
	src := "plugin \"x\" {\n  anything = { nested = [1, 2] }\n  deep { more = \"yes\" }\n}\n"
	c, err := config.Parse([]byte(src), "c.hcl", noEnv)
	if err != nil {
		t.Fatalf("host rejected a plugin's own keys: %v", err)
	}
	p, _ := c.Plugin("x")
	if !bytes.Contains(p.Block.Body, []byte("deep { more")) {
		t.Errorf("body = %q", p.Block.Body)
	}
}
