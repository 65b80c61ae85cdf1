package i2p

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
	"github.com/onemfive/onemfive/sdk/base"
)

// Defaults for the plugin "i2p" block.
const (
	DefaultTunnelLength   = 3
	DefaultTunnelQuantity = 2
	DefaultSAMTimeout     = 10 * time.Second
	DefaultSessionTimeout = 3 * time.Minute
	DefaultDialTimeout    = 60 * time.Second
	DefaultStartWait      = 90 * time.Second
	DefaultPeerDeadline   = 2 * time.Minute
	DefaultPollInterval   = 2 * time.Second
	DefaultMinTunnelRate  = 5
	DefaultMaxQueue       = 256
)

// Config is the plugin "i2p" { ... } block. Every key is optional;
// unknown keys are errors. Without sam_addr the plugin runs its own i2pd;
// with it, it uses that router's SAM bridge.
type Config struct {
	// I2PDPath is the i2pd executable (default /opt/onemfive/i2pd/bin/i2pd,
	// then i2pd from PATH). It must be 2.51 or newer.
	I2PDPath string `hcl:"i2pd_path,optional"`
	// DataDir holds the destination keys and the managed i2pd's data
	// (relative: inside the plugin's data directory). Default "i2p".
	DataDir string `hcl:"data_dir,optional"`
	// I2PD holds i2pd.conf settings for the managed i2pd, keyed
	// "name" or "section.name" ("netid", "reseed.zipfile"); they override
	// the plugin's own (which turn SAM and I2PControl on at free ports on
	// 127.0.0.1 and everything else that reaches out off).
	I2PD map[string]string `hcl:"i2pd,optional"`
	// SAMAddr uses an existing router's SAM bridge (host:port) instead of
	// starting i2pd.
	SAMAddr string `hcl:"sam_addr,optional"`
	// ControlAddr and ControlPassword reach that router's I2PControl for
	// peer and tunnel figures (optional; attach mode only).
	ControlAddr     string `hcl:"control_addr,optional"`
	ControlPassword string `hcl:"control_password,optional"`
	// TunnelLength and TunnelQuantity shape this node's client tunnels
	// (both directions). Defaults 3 and 2.
	TunnelLength   *int `hcl:"tunnel_length,optional"`
	TunnelQuantity *int `hcl:"tunnel_quantity,optional"`
	// SAMTimeout bounds one SAM exchange (HELLO, DEST GENERATE, NAMING
	// LOOKUP). Default "10s".
	SAMTimeout string `hcl:"sam_timeout,optional"`
	// SessionTimeout bounds SESSION CREATE (tunnels built, lease set
	// made). Default "3m".
	SessionTimeout string `hcl:"session_timeout,optional"`
	// DialTimeout bounds one STREAM CONNECT. Default "60s".
	DialTimeout string `hcl:"dial_timeout,optional"`
	// StartWait bounds how long Start waits for the session before
	// returning the address anyway. Default "90s".
	StartWait string `hcl:"start_wait,optional"`
	// PeerDeadline: nothing received from any router for this long is reported
	// blocked. Default "2m".
	PeerDeadline string `hcl:"peer_deadline,optional"`
	// PollInterval is how often I2PControl is asked. Default "2s".
	PollInterval string `hcl:"poll_interval,optional"`
	// MinTunnelSuccess: a tunnel creation success rate below this
	// percentage while the session cannot be made is reported blocked.
	// Default 5.
	MinTunnelSuccess *int `hcl:"min_tunnel_success,optional"`
	// MaxQueue bounds the packets queued per peer. Default 256.
	MaxQueue *int `hcl:"max_queue,optional"`
	// Restart restarts a managed i2pd that exits. Default true.
	Restart *bool `hcl:"restart,optional"`
}

// settings is a validated Config.
type settings struct {
	i2pdPath, dataDir   string
	i2pd                i2pd.Options
	samAddr             string
	controlAddr, ctlPwd string
	tunnelLength        int
	tunnelQuantity      int
	samTimeout          time.Duration
	sessionTimeout      time.Duration
	dialTimeout         time.Duration
	startWait           time.Duration
	peerDeadline        time.Duration
	pollInterval        time.Duration
	minTunnelRate       int
	maxQueue            int
	restart             bool
}

func defaultSettings() settings {
	return settings{dataDir: "i2p", tunnelLength: DefaultTunnelLength, tunnelQuantity: DefaultTunnelQuantity,
		samTimeout: DefaultSAMTimeout, sessionTimeout: DefaultSessionTimeout, dialTimeout: DefaultDialTimeout,
		startWait: DefaultStartWait, peerDeadline: DefaultPeerDeadline, pollInterval: DefaultPollInterval,
		minTunnelRate: DefaultMinTunnelRate, maxQueue: DefaultMaxQueue, restart: true}
}

// managed reports whether the plugin runs its own i2pd.
func (s settings) managed() bool { return s.samAddr == "" }

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
	s.i2pdPath, s.samAddr, s.controlAddr, s.ctlPwd = c.I2PDPath, c.SAMAddr, c.ControlAddr, c.ControlPassword
	if c.DataDir != "" {
		s.dataDir = c.DataDir
	}
	if !filepath.IsAbs(s.dataDir) {
		if cfg.DataDir == "" {
			bad("data_dir", errors.New("relative, and the host gave no plugin data directory"))
		}
		s.dataDir = filepath.Join(cfg.DataDir, s.dataDir)
	}
	for _, a := range []struct{ key, v string }{{"sam_addr", c.SAMAddr}, {"control_addr", c.ControlAddr}} {
		if a.v != "" {
			if _, _, err := net.SplitHostPort(a.v); err != nil {
				bad(a.key, err)
			}
		}
	}
	if c.SAMAddr != "" && (len(c.I2PD) > 0 || c.I2PDPath != "") {
		bad("sam_addr", errors.New("i2pd and i2pd_path apply to an i2pd this plugin starts; configure the router behind sam_addr itself"))
	}
	if c.SAMAddr == "" && c.ControlAddr != "" {
		bad("control_addr", errors.New("only with sam_addr: the plugin's own i2pd has its I2PControl set up by the plugin"))
	}
	if c.I2PD != nil {
		s.i2pd = i2pd.Options(c.I2PD)
		if err := s.i2pd.Check(); err != nil {
			bad("i2pd", err)
		}
	}
	intIn := func(key string, v *int, lo, hi int, into *int) {
		if v == nil {
			return
		}
		if *v < lo || *v > hi {
			bad(key, fmt.Errorf("%d is outside %d..%d", *v, lo, hi))
		}
		*into = *v
	}
	intIn("tunnel_length", c.TunnelLength, 0, 7, &s.tunnelLength)
	intIn("tunnel_quantity", c.TunnelQuantity, 1, 16, &s.tunnelQuantity)
	intIn("min_tunnel_success", c.MinTunnelSuccess, 0, 100, &s.minTunnelRate)
	intIn("max_queue", c.MaxQueue, 1, 1<<20, &s.maxQueue)
	dur := prob.Duration
	dur("sam_timeout", c.SAMTimeout, &s.samTimeout)
	dur("session_timeout", c.SessionTimeout, &s.sessionTimeout)
	dur("dial_timeout", c.DialTimeout, &s.dialTimeout)
	dur("start_wait", c.StartWait, &s.startWait)
	dur("peer_deadline", c.PeerDeadline, &s.peerDeadline)
	dur("poll_interval", c.PollInterval, &s.pollInterval)
	if c.Restart != nil {
		s.restart = *c.Restart
	}
	if err := prob.Err(); err != nil {
		return settings{}, fmt.Errorf("config: %w", err)
	}
	return s, nil
}

// sessionOptions are the I2CP options of this node's SAM session.
func (s settings) sessionOptions() []string {
	return []string{
		fmt.Sprintf("inbound.length=%d", s.tunnelLength), fmt.Sprintf("outbound.length=%d", s.tunnelLength),
		fmt.Sprintf("inbound.quantity=%d", s.tunnelQuantity), fmt.Sprintf("outbound.quantity=%d", s.tunnelQuantity),
		"i2cp.leaseSetEncType=4,0",
	}
}

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// checkAddr accepts "<52 base32 chars>.b32.i2p", the address form this
// transport sends to and advertises (a destination's SHA-256).
func checkAddr(a string) error {
	id, ok := strings.CutSuffix(a, ".b32.i2p")
	if !ok || len(id) != 52 {
		return fmt.Errorf("%q is not a .b32.i2p address", a)
	}
	if raw, err := b32.DecodeString(id); err != nil || len(raw) != 32 {
		return fmt.Errorf("%q is not a .b32.i2p address", a)
	}
	return nil
}
