package direct

import (
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
)

// Defaults for the plugin "direct" block.
const (
	DefaultListen      = "127.0.0.1:0"
	DefaultKeepalive   = 15 * time.Second
	DefaultDialTimeout = 5 * time.Second
	DefaultMaxQueue    = 256
)

// Config is the plugin "direct" { ... } block. Every key is optional;
// unknown keys are errors.
type Config struct {
	// Listen is the TCP address to accept peers on. The default,
	// 127.0.0.1:0, is loopback on a port the OS picks: safe, but reachable
	// only from this machine. Set a routable address (and a fixed port) for
	// real links.
	Listen string `hcl:"listen,optional"`
	// Advertise lists the addresses peers should dial, reported by Start
	// and sent in hello frames instead of the listen address (for
	// 0.0.0.0 listeners, NAT port forwards, names). The first is primary.
	Advertise []string `hcl:"advertise,optional"`
	// Keepalive is the ping interval; a connection with no frame for three
	// intervals is closed. Duration string, default "15s".
	Keepalive string `hcl:"keepalive,optional"`
	// DialTimeout bounds a dial plus hello exchange. Default "5s".
	DialTimeout string `hcl:"dial_timeout,optional"`
	// MaxQueue bounds the packets queued per peer. Default 256.
	MaxQueue *int `hcl:"max_queue,optional"`
	// TapFile, if set, gets one line per packet payload sent or received,
	// lowercase hex. A relative path is taken inside the plugin's data
	// directory. A debugging aid: it grows without bound.
	TapFile string `hcl:"tap_file,optional"`
}

// settings is a validated Config.
type settings struct {
	listen      string
	advertise   []string
	keepalive   time.Duration
	dialTimeout time.Duration
	maxQueue    int
	tapFile     string
}

func defaultSettings() settings {
	return settings{
		listen:      DefaultListen,
		keepalive:   DefaultKeepalive,
		dialTimeout: DefaultDialTimeout,
		maxQueue:    DefaultMaxQueue,
	}
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
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			bad("listen", err)
		}
		s.listen = c.Listen
	}
	for i, a := range c.Advertise {
		if err := checkAddr(a); err != nil {
			bad("advertise", fmt.Errorf("[%d]: %w", i, err))
		}
	}
	s.advertise = c.Advertise
	dur := prob.Duration
	dur("keepalive", c.Keepalive, &s.keepalive)
	dur("dial_timeout", c.DialTimeout, &s.dialTimeout)
	if c.MaxQueue != nil {
		if *c.MaxQueue < 1 {
			bad("max_queue", fmt.Errorf("%d is less than 1", *c.MaxQueue))
		}
		s.maxQueue = *c.MaxQueue
	}
	if c.TapFile != "" {
		s.tapFile = c.TapFile
		if !filepath.IsAbs(s.tapFile) && cfg.DataDir != "" {
			s.tapFile = filepath.Join(cfg.DataDir, s.tapFile)
		}
	}
	if err := prob.Err(); err != nil {
		return settings{}, fmt.Errorf("config: %w", err)
	}
	return s, nil
}
