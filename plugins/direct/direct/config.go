package direct

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

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
	var errs []error
	at := attrPositions(cfg)
	bad := func(key string, err error) {
		errs = append(errs, fmt.Errorf("%s%s: %w", at[key], key, err))
	}
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
	dur := func(key, v string, into *time.Duration) {
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad(key, err)
		case d <= 0:
			bad(key, fmt.Errorf("%s is not positive", v))
		default:
			*into = d
		}
	}
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
	if len(errs) > 0 {
		return settings{}, fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return s, nil
}

// attrPositions maps each attribute of the block to "file:line,col: ", so
// semantic errors carry positions like hcl's own diagnostics. The body has
// already parsed once, so errors here are impossible and ignored.
func attrPositions(cfg base.Config) map[string]string {
	start := cfg.Start
	if start.Line == 0 {
		start = hcl.InitialPos
	}
	f, _ := hclsyntax.ParseConfig(cfg.Body, cfg.Filename, start)
	out := make(map[string]string)
	if f == nil {
		return out
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return out
	}
	for name, a := range body.Attributes {
		r := a.SrcRange
		out[name] = fmt.Sprintf("%s:%d,%d: ", r.Filename, r.Start.Line, r.Start.Column)
	}
	return out
}
