package tor

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
)

// Defaults for the plugin "tor" block.
const (
	DefaultPort              = 4019
	DefaultBootstrapDeadline = 2 * time.Minute
	DefaultMaxFailures       = 3
	DefaultStartWait         = 90 * time.Second
	DefaultDialTimeout       = 60 * time.Second
	DefaultMaxQueue          = 256
)

// Config is the plugin "tor" { ... } block. Every key is optional;
// unknown keys are errors. Without control_addr the plugin runs its own
// tor; with it, it attaches to a running tor's control port.
type Config struct {
	// TorPath is the tor executable (default: "tor" from PATH, then
	// /usr/sbin/tor, /usr/bin/tor).
	TorPath string `hcl:"tor_path,optional"`
	// DataDir is tor's data directory (relative: inside the plugin's data
	// directory). Default "tor".
	DataDir string `hcl:"data_dir,optional"`
	// Torrc holds extra torrc lines for the managed tor.
	Torrc []string `hcl:"torrc,optional"`
	// ControlAddr attaches to a running tor (host:port of its
	// ControlPort) instead of starting one.
	ControlAddr string `hcl:"control_addr,optional"`
	// ControlPassword authenticates to ControlAddr; empty uses the cookie
	// file tor announces (SAFECOOKIE or COOKIE).
	ControlPassword string `hcl:"control_password,optional"`
	// SocksAddr overrides the SOCKS port asked from tor (attach mode).
	SocksAddr string `hcl:"socks_addr,optional"`
	// Port is the onion service's virtual port. Default 4019.
	Port *int `hcl:"port,optional"`
	// Bridges are bridge lines ("obfs4 192.0.2.1:443 FP cert=... iat-mode=0");
	// setting any turns UseBridges on (managed tor only).
	Bridges []string `hcl:"bridges,optional"`
	// TransportPlugins maps a pluggable transport name to its client
	// executable, e.g. {obfs4 = "/usr/bin/obfs4proxy"} (managed tor only).
	TransportPlugins map[string]string `hcl:"transport_plugins,optional"`
	// BootstrapDeadline: bootstrap stuck in one phase this long is
	// reported blocked. Default "2m".
	BootstrapDeadline string `hcl:"bootstrap_deadline,optional"`
	// MaxFailures: a bootstrap problem tor reports this many times is
	// reported blocked. Default 3.
	MaxFailures *int `hcl:"max_failures,optional"`
	// StartWait bounds how long Start waits for bootstrap and the onion
	// service's publication before returning the address anyway (the
	// transport keeps trying and reports progress). Default "90s".
	StartWait string `hcl:"start_wait,optional"`
	// DialTimeout bounds one stream dial through tor. Default "60s".
	DialTimeout string `hcl:"dial_timeout,optional"`
	// MaxQueue bounds the packets queued per peer. Default 256.
	MaxQueue *int `hcl:"max_queue,optional"`
	// Restart restarts a managed tor that exits. Default true.
	Restart *bool `hcl:"restart,optional"`
}

// settings is a validated Config.
type settings struct {
	torPath, dataDir      string
	torrc                 []string
	controlAddr, password string
	socksAddr             string
	port                  int
	bridges               []string
	ptPlugins             map[string]string
	bootstrapDeadline     time.Duration
	maxFailures           int
	startWait             time.Duration
	dialTimeout           time.Duration
	maxQueue              int
	restart               bool
	pluginDataDir         string
}

func defaultSettings() settings {
	return settings{dataDir: "tor", port: DefaultPort, bootstrapDeadline: DefaultBootstrapDeadline,
		maxFailures: DefaultMaxFailures, startWait: DefaultStartWait, dialTimeout: DefaultDialTimeout,
		maxQueue: DefaultMaxQueue, restart: true}
}

// parseConfig decodes and validates a config block, reporting every
// problem at once.
func parseConfig(cfg base.Config) (settings, error) {
	var c Config
	if err := cfg.Decode(&c); err != nil {
		return settings{}, err
	}
	s := defaultSettings()
	prob := cfg.Problems()
	bad := prob.Add
	s.torPath, s.torrc, s.controlAddr, s.password = c.TorPath, c.Torrc, c.ControlAddr, c.ControlPassword
	s.socksAddr, s.bridges, s.ptPlugins = c.SocksAddr, c.Bridges, c.TransportPlugins
	s.pluginDataDir = cfg.DataDir
	if c.DataDir != "" {
		s.dataDir = c.DataDir
	}
	if !filepath.IsAbs(s.dataDir) {
		if cfg.DataDir == "" {
			bad("data_dir", errors.New("relative, and the host gave no plugin data directory"))
		}
		s.dataDir = filepath.Join(cfg.DataDir, s.dataDir)
	}
	for _, a := range []struct{ key, v string }{{"control_addr", c.ControlAddr}, {"socks_addr", c.SocksAddr}} {
		if a.v != "" {
			if _, _, err := net.SplitHostPort(a.v); err != nil {
				bad(a.key, err)
			}
		}
	}
	if c.ControlAddr != "" && (len(c.Bridges) > 0 || len(c.TransportPlugins) > 0 || len(c.Torrc) > 0) {
		bad("control_addr", errors.New("bridges, transport_plugins and torrc apply to a tor this plugin starts; configure them in the attached tor"))
	}
	if c.Port != nil {
		if *c.Port < 1 || *c.Port > 65535 {
			bad("port", fmt.Errorf("%d out of range", *c.Port))
		}
		s.port = *c.Port
	}
	for i, l := range c.Torrc {
		if strings.ContainsAny(l, "\n\r") {
			bad("torrc", fmt.Errorf("[%d]: one line per element", i))
		}
	}
	for i, b := range c.Bridges {
		if strings.ContainsAny(b, "\n\r") || strings.TrimSpace(b) == "" {
			bad("bridges", fmt.Errorf("[%d]: want one bridge line", i))
		}
	}
	for name, path := range c.TransportPlugins {
		if name == "" || strings.ContainsAny(name, " ,\n") || path == "" || strings.ContainsAny(path, "\n") {
			bad("transport_plugins", fmt.Errorf("%q = %q: want name = \"/path/to/client\"", name, path))
		}
	}
	dur := prob.Duration
	dur("bootstrap_deadline", c.BootstrapDeadline, &s.bootstrapDeadline)
	dur("start_wait", c.StartWait, &s.startWait)
	dur("dial_timeout", c.DialTimeout, &s.dialTimeout)
	if c.MaxFailures != nil {
		if *c.MaxFailures < 1 {
			bad("max_failures", fmt.Errorf("%d is less than 1", *c.MaxFailures))
		}
		s.maxFailures = *c.MaxFailures
	}
	if c.MaxQueue != nil {
		if *c.MaxQueue < 1 {
			bad("max_queue", fmt.Errorf("%d is less than 1", *c.MaxQueue))
		}
		s.maxQueue = *c.MaxQueue
	}
	if c.Restart != nil {
		s.restart = *c.Restart
	}
	if err := prob.Err(); err != nil {
		return settings{}, fmt.Errorf("config: %w", err)
	}
	return s, nil
}

// torrcLines are the lines written for a managed tor: the configured
// ones, then bridges and pluggable transports.
func (s settings) torrcLines() []string {
	out := append([]string(nil), s.torrc...)
	if len(s.bridges) > 0 {
		out = append(out, "UseBridges 1")
		for _, b := range s.bridges {
			b = strings.TrimSpace(b)
			if !strings.HasPrefix(strings.ToLower(b), "bridge ") {
				b = "Bridge " + b
			}
			out = append(out, b)
		}
	}
	names := make([]string, 0, len(s.ptPlugins))
	for n := range s.ptPlugins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, fmt.Sprintf("ClientTransportPlugin %s exec %s", n, s.ptPlugins[n]))
	}
	return out
}

var onionB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// checkAddr accepts "<56 base32 chars>.onion:<port>", the v3 onion
// address form this transport sends to and advertises.
func checkAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	id, ok := strings.CutSuffix(host, ".onion")
	if !ok || len(id) != 56 {
		return fmt.Errorf("%q is not a v3 onion address", host)
	}
	raw, err := onionB32.DecodeString(id)
	if err != nil || len(raw) != 35 || raw[34] != 3 {
		return fmt.Errorf("%q is not a v3 onion address", host)
	}
	return nil
}
