package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/knadh/koanf/providers/env"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// layered is one key that the environment and flags can set.
type layered struct {
	key   string // koanf path, as in the file
	env   string
	flag  string
	usage string
}

var layeredKeys = []layered{
	{"data_dir", "ONEMFIVE_DATA_DIR", "data-dir", "directory for the daemon's state (config: data_dir)"},
	{"plugin_dir", "ONEMFIVE_PLUGIN_DIR", "plugin-dir", "directory of installed plugins (config: plugin_dir)"},
	{"mancon", "ONEMFIVE_MANCON", "mancon", "base ManCon level: LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO (config: mancon)"},
	{"log_level", "ONEMFIVE_LOG_LEVEL", "log-level", "trace, debug, info, warn or error (config: log_level)"},
	{"api.listen", "ONEMFIVE_API_LISTEN", "api-listen", "loopback host:port of the local API (config: api.listen)"},
}

// RegisterFlags adds --data-dir, --plugin-dir, --mancon, --log-level and
// --api-listen to fs. Pass fs, after fs.Parse, as Overrides.Flags; only the
// flags the user set override the file and the environment.
func RegisterFlags(fs *pflag.FlagSet) {
	for _, l := range layeredKeys {
		fs.String(l.flag, "", l.usage)
	}
}

// applyOverrides layers the environment, then the flags, over cfg with koanf.
// Every invalid value is a diagnostic naming its variable or flag.
func applyOverrides(cfg *Config, o Overrides) hcl.Diagnostics {
	var diags hcl.Diagnostics
	check := func(l layered, val, source string) (string, bool) {
		v, err := checkValue(l.key, val, cfg.API.AllowRemote)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid " + source,
				Detail:   err.Error(),
			})
			return "", false
		}
		return v, true
	}
	k := koanf.New(".")
	if !o.IgnoreEnv {
		p := env.ProviderWithValue("ONEMFIVE_", ".", func(name, val string) (string, any) {
			for _, l := range layeredKeys {
				if l.env == name && val != "" {
					if v, ok := check(l, val, "environment variable "+name); ok {
						return l.key, v
					}
				}
			}
			return "", nil
		})
		if err := k.Load(p, nil); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read the environment", Detail: err.Error()})
		}
	}
	if o.Flags != nil {
		p := posflag.ProviderWithFlag(o.Flags, ".", nil, func(f *pflag.Flag) (string, any) {
			if !f.Changed {
				return "", nil
			}
			for _, l := range layeredKeys {
				if l.flag == f.Name {
					if v, ok := check(l, f.Value.String(), "flag --"+f.Name); ok {
						return l.key, v
					}
				}
			}
			return "", nil
		})
		if err := k.Load(p, nil); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read the flags", Detail: err.Error()})
		}
	}
	if diags.HasErrors() {
		return diags
	}
	if k.Exists("data_dir") {
		cfg.DataDir = k.String("data_dir")
	}
	if k.Exists("plugin_dir") {
		cfg.PluginDir = k.String("plugin_dir")
	}
	if k.Exists("mancon") {
		cfg.ManCon, _ = envelope.ParseManCon(k.String("mancon")) // checked above
	}
	if k.Exists("log_level") {
		cfg.LogLevel = k.String("log_level")
	}
	if k.Exists("api.listen") {
		cfg.API.Listen = k.String("api.listen")
	}
	return diags
}

// checkValue validates and normalises a value from the environment or a
// flag for key. Relative paths resolve against the current directory.
func checkValue(key, val string, allowRemote bool) (string, error) {
	switch key {
	case "data_dir", "plugin_dir":
		if strings.TrimSpace(val) == "" {
			return "", fmt.Errorf("%s must not be empty", key)
		}
		return absUnder(".", val), nil
	case "mancon":
		m, err := envelope.ParseManCon(val)
		if err != nil {
			return "", fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "envelope: "))
		}
		return m.String(), nil
	case "log_level":
		return checkLogLevel(val)
	case "api.listen":
		if err := checkListen(val, allowRemote); err != nil {
			return "", err
		}
		return val, nil
	}
	return "", fmt.Errorf("unknown key %s", key)
}

var logLevels = []string{"trace", "debug", "info", "warn", "error"}

func checkLogLevel(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for _, v := range logLevels {
		if l == v {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown log level %q (want trace, debug, info, warn or error)", s)
}

// checkListen requires host:port with a numeric port, and a loopback host
// unless allowRemote. An empty host means every interface, so it is remote.
func checkListen(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q is not host:port: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("listen address %q: port %q is not a number from 0 to 65535", addr, port)
	}
	if allowRemote {
		return nil
	}
	if isLoopback(host) {
		return nil
	}
	return fmt.Errorf("listen address %q is not a loopback address; the local API lets whoever reaches it send and receive as this node, so it listens on 127.0.0.1 or ::1 only, unless api { allow_remote = true }", addr)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
