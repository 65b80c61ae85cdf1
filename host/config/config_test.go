package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/onemfive/onemfive"
	"github.com/onemfive/onemfive/host/config"
	"github.com/onemfive/onemfive/sdk/envelope"
)

var noEnv = config.Overrides{IgnoreEnv: true}

func TestErrorsCarryPositions(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // substrings of the error
	}{
		{"syntax", "data_dir = \"x\nmancon = \"HIGH\"\n", []string{"t.hcl:1:"}},
		{"syntax missing brace", "api {\n  listen = \"127.0.0.1:1\"\n", []string{"t.hcl:", "Unclosed configuration block"}},
		{"unknown key", "data_dir = \"x\"\nbogus = 1\n", []string{"t.hcl:2:1:", `"bogus"`}},
		{"unknown block", "network \"tor\" {}\n", []string{"t.hcl:1:1:", `"network"`}},
		{"unknown api key", "api {\n  lisen = \"127.0.0.1:2018\"\n}\n", []string{"t.hcl:2:3:", `"lisen"`}},
		{"wrong type string", "data_dir = 42\n", []string{"t.hcl:1:12:", "data_dir must be a string"}},
		{"wrong type list", "log_level = [\"info\"]\n", []string{"t.hcl:1:13:", "log_level must be a string"}},
		{"wrong type bool", "api {\n  allow_remote = \"true\"\n}\n", []string{"t.hcl:2:18:", "allow_remote must be true or false"}},
		{"enabled not bool", "plugin \"a\" {\n  enabled = \"yes\"\n}\n", []string{"t.hcl:2:13:", "enabled must be true or false"}},
		{"null", "plugin_dir = null\n", []string{"t.hcl:1:14:", "not null"}},
		{"empty path", "plugin_dir = \"\"\n", []string{"t.hcl:1:14:", "must not be empty"}},
		{"variables", "data_dir = var.home\n", []string{"t.hcl:1:12:", "Variables not allowed"}},
		{"bad mancon", "\nmancon = \"HIHG\"\n", []string{"t.hcl:2:10:", `unknown ManCon level "HIHG"`}},
		{"bad log level", "log_level = \"loud\"\n", []string{"t.hcl:1:13:", `unknown log level "loud"`}},
		{"duplicate plugin", "plugin \"a\" {}\n\nplugin \"a\" {}\n", []string{"t.hcl:3:1:", "already configured at t.hcl:1:1"}},
		{"duplicate api", "api {}\napi {}\n", []string{"t.hcl:2:1:", "already defined at t.hcl:1:1"}},
		{"plugin without name", "plugin {}\n", []string{"t.hcl:1:8:", "Missing name"}},
		{"bad plugin name", "plugin \"Tor_1\" {}\n", []string{"t.hcl:1:8:", `"Tor_1"`}},
		{"non-loopback listen", "api {\n  listen = \"0.0.0.0:2018\"\n}\n", []string{"t.hcl:2:12:", "not a loopback address", "allow_remote"}},
		{"all interfaces listen", "api {\n  listen = \":2018\"\n}\n", []string{"t.hcl:2:12:", "not a loopback address"}},
		{"listen not host:port", "api {\n  listen = \"127.0.0.1\"\n}\n", []string{"t.hcl:2:12:", "not host:port"}},
		{"listen bad port", "api {\n  listen = \"127.0.0.1:http\"\n}\n", []string{"t.hcl:2:12:", "not a number"}},
		{"onion unknown key", "onion {\n  hops = 3\n}\n", []string{"t.hcl:2:3:", `"hops"`}},
		{"onion bad guard", "onion {\n  guards = [\"nope\"]\n}\n", []string{"t.hcl:2:12:", "is not a node id"}},
		{"onion bad lifetime", "onion {\n  lease_lifetime = \"5s\"\n}\n", []string{"t.hcl:2:20:", "outside 30s..24h"}},
		{"onion duplicate", "onion {}\nonion {}\n", []string{"t.hcl:2:1:", "already defined at t.hcl:1:1"}},
		{"web non-loopback listen", "web {\n  listen = \"0.0.0.0:2019\"\n}\n", []string{"t.hcl:2:12:", "Invalid web.listen", "not a loopback address"}},
		{"web remote not allowable", "api {\n  allow_remote = true\n}\nweb {\n  listen = \"10.0.0.1:2019\"\n}\n", []string{"t.hcl:5:12:", "Invalid web.listen"}},
		{"web bad timeout", "web {\n  dial_timeout = \"1h\"\n}\n", []string{"t.hcl:2:18:", "outside 1s..10m"}},
		{"web unknown key", "web {\n  port = 2019\n}\n", []string{"t.hcl:2:3:", `"port"`}},
		{"web duplicate", "web {}\nweb {}\n", []string{"t.hcl:2:1:", "already defined at t.hcl:1:1"}},
		{"web relay networks empty", "web {\n  relay_networks = []\n}\n", []string{"t.hcl:2:20:", "relay_networks"}},
		{"web relay not bool", "web {\n  relay = \"yes\"\n}\n", []string{"t.hcl:2:11:", "relay must be true or false"}},
		{"listen remote allowed bad port", "api {\n  allow_remote = true\n  listen = \"[::]:99999\"\n}\n", []string{"t.hcl:3:12:", "not a number"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.src), "t.hcl", noEnv)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tc.src)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *config.Error: %v", err, err)
			}
			var diags hcl.Diagnostics
			if !errors.As(err, &diags) || !diags.HasErrors() {
				t.Fatalf("error does not unwrap to hcl.Diagnostics: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAllowRemote(t *testing.T) {
	src := "api {\n  listen = \"0.0.0.0:2018\"\n  allow_remote = true\n}\n"
	c, err := config.Parse([]byte(src), "t.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.API.Listen != "0.0.0.0:2018" || !c.API.AllowRemote {
		t.Fatalf("api = %+v", c.API)
	}
	for _, ok := range []string{"127.0.0.1:2018", "127.3.4.5:1", "[::1]:2018", "localhost:0"} {
		src := "api {\n  listen = \"" + ok + "\"\n}\n"
		if _, err := config.Parse([]byte(src), "t.hcl", noEnv); err != nil {
			t.Errorf("listen %s: %v", ok, err)
		}
	}
}

func TestManyProblemsReportedTogether(t *testing.T) {
	src := `data_dir = 1
bogus = "x"
mancon = "HIHG"
api {
  listen = "10.0.0.1:2018"
}
plugin "direct" {}
plugin "direct" {
  enabled = 3
}
`
	_, err := config.Parse([]byte(src), "many.hcl", noEnv)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{"many.hcl:1:12:", "many.hcl:2:1:", "many.hcl:3:10:", "many.hcl:5:12:", "many.hcl:8:1:", "5 problems"}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) || len(diags.Errs()) != 5 {
		t.Errorf("want 5 diagnostics, got %d: %v", len(diags.Errs()), err)
	}
}

func TestShippedConfig(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(filepath.Join(root, "config.hcl"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	// The shipped file leaves both directories to their defaults so that
	// the embedded copy works from anywhere.
	home, _ := os.UserHomeDir()
	if c.DataDir != filepath.Join(home, ".onemfive") {
		t.Errorf("DataDir = %q", c.DataDir)
	}
	exe, _ := os.Executable()
	if c.PluginDir != filepath.Join(filepath.Dir(exe), "plugins") {
		t.Errorf("PluginDir = %q", c.PluginDir)
	}
	if c.ManCon != envelope.HIGH || c.LogLevel != "info" || c.API.Listen != "127.0.0.1:2018" || c.API.AllowRemote || c.Web.Listen != "127.0.0.1:2019" || c.Web.Relay || !slices.Equal(c.Web.RelayNetworks, []string{"tor", "i2p"}) {
		t.Errorf("config = %+v", c)
	}
	p, ok := c.Plugin("direct")
	if !ok || !p.Enabled {
		t.Fatalf("plugin direct = %+v, %v", p, ok)
	}
	var direct struct {
		Listen string   `hcl:"listen"`
		Rest   hcl.Body `hcl:",remain"`
	}
	if err := p.Block.Decode(&direct); err != nil {
		t.Fatal(err)
	}
	if direct.Listen != "127.0.0.1:4018" {
		t.Errorf("direct listen = %q", direct.Listen)
	}
	if p.Block.DataDir != filepath.Join(c.DataDir, "plugins", "direct") {
		t.Errorf("plugin DataDir = %q", p.Block.DataDir)
	}
	if _, ok := c.Plugin("nope"); ok {
		t.Error("Plugin(nope) found")
	}

	// The embedded default is the same file.
	disk, err := os.ReadFile(filepath.Join(root, "config.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if string(disk) != string(onemfive.DefaultConfig) {
		t.Error("onemfive.DefaultConfig differs from config.hcl")
	}
}

func TestDefault(t *testing.T) {
	for _, l := range []string{"ONEMFIVE_DATA_DIR", "ONEMFIVE_PLUGIN_DIR", "ONEMFIVE_MANCON", "ONEMFIVE_LOG_LEVEL", "ONEMFIVE_API_LISTEN"} {
		t.Setenv(l, "")
	}
	c, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	if c.DataDir != filepath.Join(home, ".onemfive") {
		t.Errorf("DataDir = %q, want the default ~/.onemfive", c.DataDir)
	}
	if c.ManCon != envelope.HIGH {
		t.Errorf("ManCon = %v", c.ManCon)
	}
	p, ok := c.Plugin("direct")
	if !ok || p.Block.Filename != config.EmbeddedFilename {
		t.Errorf("plugin direct = %+v", p)
	}
}

func TestEmbeddedErrorsNameEmbeddedFile(t *testing.T) {
	_, err := config.Parse([]byte("bogus = 1\n"), config.EmbeddedFilename, noEnv)
	if err == nil || !strings.Contains(err.Error(), "<embedded config.hcl>:1:1:") {
		t.Fatalf("err = %v", err)
	}
}

func TestPathsAndDefaults(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sub", "onemfive.hcl")
	c, err := config.Parse([]byte("data_dir = \"state\"\nplugin_dir = \"/opt/p\"\n"), file, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "sub", "state") || c.PluginDir != "/opt/p" {
		t.Errorf("paths = %q %q", c.DataDir, c.PluginDir)
	}

	c, err = config.Parse(nil, file, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	exe, _ := os.Executable()
	if c.DataDir != filepath.Join(home, ".onemfive") {
		t.Errorf("default DataDir = %q", c.DataDir)
	}
	if c.PluginDir != filepath.Join(filepath.Dir(exe), "plugins") {
		t.Errorf("default PluginDir = %q", c.PluginDir)
	}
	if c.ManCon != envelope.HIGH || c.LogLevel != "info" || c.API.Listen != "127.0.0.1:2018" || len(c.Plugins) != 0 {
		t.Errorf("defaults = %+v", c)
	}

	t.Setenv("ONEMFIVE_HOME", filepath.Join(dir, "home"))
	c, err = config.Parse(nil, file, config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "home") {
		t.Errorf("DataDir with ONEMFIVE_HOME = %q", c.DataDir)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.hcl"), noEnv)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.hcl")
	src := []byte("mancon = \"LOW\"\nlog_level = \"warn\"\napi {\n  listen = \"127.0.0.1:1\"\n}\n")
	newFlags := func(args ...string) *pflag.FlagSet {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		fs.String("config", "", "unrelated flag of the daemon")
		config.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return fs
	}

	// file only (an unset flag set changes nothing)
	c, err := config.Parse(src, file, config.Overrides{IgnoreEnv: true, Flags: newFlags("--config", "x")})
	if err != nil {
		t.Fatal(err)
	}
	if c.ManCon != envelope.LOW || c.LogLevel != "warn" || c.API.Listen != "127.0.0.1:1" {
		t.Errorf("file layer: %+v", c)
	}

	// env over file
	t.Setenv("ONEMFIVE_MANCON", "medium")
	t.Setenv("ONEMFIVE_LOG_LEVEL", "DEBUG")
	t.Setenv("ONEMFIVE_API_LISTEN", "127.0.0.1:2")
	t.Setenv("ONEMFIVE_DATA_DIR", "rel")
	t.Setenv("ONEMFIVE_UNRELATED", "whatever")
	c, err = config.Parse(src, file, config.Overrides{Flags: newFlags()})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if c.ManCon != envelope.MEDIUM || c.LogLevel != "debug" || c.API.Listen != "127.0.0.1:2" || c.DataDir != filepath.Join(wd, "rel") {
		t.Errorf("env layer: %+v", c)
	}

	// flag over env
	c, err = config.Parse(src, file, config.Overrides{Flags: newFlags("--mancon=NEO", "--api-listen", "[::1]:3", "--plugin-dir", "/p", "--data-dir", "/d")})
	if err != nil {
		t.Fatal(err)
	}
	if c.ManCon != envelope.NEO || c.LogLevel != "debug" || c.API.Listen != "[::1]:3" || c.PluginDir != "/p" || c.DataDir != "/d" {
		t.Errorf("flag layer: %+v", c)
	}

	// IgnoreEnv drops the environment layer
	c, err = config.Parse(src, file, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.ManCon != envelope.LOW {
		t.Errorf("IgnoreEnv: mancon = %v", c.ManCon)
	}
}

func TestInvalidOverridesNameTheirSource(t *testing.T) {
	newFlags := func(args ...string) *pflag.FlagSet {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		config.RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return fs
	}
	t.Setenv("ONEMFIVE_MANCON", "HIHG")
	t.Setenv("ONEMFIVE_API_LISTEN", "192.0.2.1:2018")
	// The flag overrides ONEMFIVE_MANCON, but the bad variable is still reported.
	_, err := config.Parse(nil, "t.hcl", config.Overrides{Flags: newFlags("--mancon", "HIGH", "--log-level", "chatty", "--data-dir", "")})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"environment variable ONEMFIVE_MANCON", `"HIHG"`, "environment variable ONEMFIVE_API_LISTEN", "flag --log-level", `"chatty"`, "flag --data-dir", "4 problems"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}

	// A remote address from the environment is fine when the file allows it.
	t.Setenv("ONEMFIVE_MANCON", "")
	c, err := config.Parse([]byte("api {\n  allow_remote = true\n}\n"), "t.hcl", config.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.API.Listen != "192.0.2.1:2018" {
		t.Errorf("listen = %q", c.API.Listen)
	}
}

func TestPolicies(t *testing.T) {
	c, err := config.Parse([]byte("policies = [\"policies/*.hcl\", \"/etc/om5/extra.hcl\"]\n"), "/srv/om5/config.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Policies) != 2 || c.Policies[0] != "/srv/om5/policies/*.hcl" || c.Policies[1] != "/etc/om5/extra.hcl" {
		t.Fatalf("policies %q", c.Policies)
	}
	for _, bad := range []string{`policies = "x.hcl"`, `policies = [1]`, `policies = [""]`} {
		_, err := config.Parse([]byte(bad+"\n"), "c.hcl", noEnv)
		if err == nil || !strings.Contains(err.Error(), "c.hcl:1:") {
			t.Errorf("%s: error %v, want one at c.hcl:1", bad, err)
		}
	}
}

// TestOnionBlock: defaults when absent; every key decodes; the observation
// log resolves against the file's directory.
func TestOnionBlock(t *testing.T) {
	cfg, err := config.Parse([]byte("data_dir = \"/d\"\n"), "/etc/om5/t.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if d := config.DefaultOnion(); cfg.Onion.Enabled != d.Enabled || cfg.Onion.Publish != d.Publish || cfg.Onion.FallbackDirect != d.FallbackDirect || cfg.Onion.FallbackClearnet || !cfg.Onion.Enabled || cfg.Onion.Guards != nil {
		t.Fatalf("default onion %+v", cfg.Onion)
	}
	src := "data_dir = \"/d\"\nonion {\n  enabled = false\n  client_only = true\n  publish = false\n  fallback_direct = false\n  fallback_clearnet = true\n" +
		"  lease_lifetime = \"2m\"\n  observe_log = \"obs.jsonl\"\n  guards = [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]\n}\n"
	cfg, err = config.Parse([]byte(src), "/etc/om5/t.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Onion
	if o.Enabled || !o.ClientOnly || o.Publish || o.FallbackDirect || !o.FallbackClearnet || o.LeaseLifetime != 2*time.Minute ||
		o.ObserveLog != "/etc/om5/obs.jsonl" || len(o.Guards) != 1 {
		t.Fatalf("onion %+v", o)
	}
}
