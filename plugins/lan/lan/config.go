package lan

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
)

// Defaults for the plugin "lan" block.
const (
	DefaultGroup4           = "239.255.15.18"
	DefaultGroup6           = "ff02::15:18"
	DefaultPort             = 4019
	DefaultListenPort       = 4019
	DefaultAnnounceInterval = 2 * time.Second
	DefaultKeepalive        = 2 * time.Second
	DefaultRate             = 2.0 // announcements per second per source
	DefaultBurst            = 8
)

// Config is the plugin "lan" { ... } block. Every key is optional; unknown
// keys are errors.
type Config struct {
	// Interfaces selects the interfaces to announce on and advertise the
	// addresses of, by name or glob ("eth0", "wl*"). The default is every
	// interface that is up, not loopback, and can multicast or broadcast.
	// Loopback is used only when named ("lo"), which tests do.
	Interfaces []string `hcl:"interfaces,optional"`
	// Group is the IPv4 multicast group announcements go to. Default
	// 239.255.15.18 (organisation-local scope).
	Group string `hcl:"group,optional"`
	// Group6 is the IPv6 link-local multicast group. Default ff02::15:18.
	Group6 string `hcl:"group6,optional"`
	// Port is the UDP port announcements are sent to and heard on.
	// Default 4019; 0 picks a free one (only useful with unicast).
	Port *int `hcl:"port,optional"`
	// ListenPort is the TCP port links are accepted on. Default 4019; 0
	// picks a free one.
	ListenPort *int `hcl:"listen_port,optional"`
	// Broadcast also sends each announcement to the IPv4 broadcast address
	// of every selected interface. Default true.
	Broadcast *bool `hcl:"broadcast,optional"`
	// IPv6 announces on the IPv6 group too. Default true.
	IPv6 *bool `hcl:"ipv6,optional"`
	// Unicast lists extra host:port destinations for announcements, for
	// links that carry neither multicast nor broadcast.
	Unicast []string `hcl:"unicast,optional"`
	// AnnounceInterval is how often this node announces itself (with up
	// to a quarter of jitter). A peer not heard for three intervals is
	// reported lost. Default "2s".
	AnnounceInterval string `hcl:"announce_interval,optional"`
	// Rate and Burst limit the announcements taken from one source
	// address (a token bucket); the rest are dropped unread. Defaults 2/s
	// and 8.
	Rate  *float64 `hcl:"rate,optional"`
	Burst *int     `hcl:"burst,optional"`
	// Keepalive, DialTimeout and MaxQueue tune the links, as in the
	// direct transport. Keepalive defaults to "2s" here, so a cut link is
	// noticed within about six seconds.
	Keepalive   string `hcl:"keepalive,optional"`
	DialTimeout string `hcl:"dial_timeout,optional"`
	MaxQueue    *int   `hcl:"max_queue,optional"`
}

// settings is a validated Config.
type settings struct {
	interfaces  []string
	group4      net.IP
	group6      net.IP
	port        int
	listenPort  int
	broadcast   bool
	ipv6        bool
	unicast     []*net.UDPAddr
	interval    time.Duration
	rate        float64
	burst       int
	keepalive   time.Duration
	dialTimeout string
	maxQueue    int
}

func defaultSettings() settings {
	return settings{
		group4:     net.ParseIP(DefaultGroup4),
		group6:     net.ParseIP(DefaultGroup6),
		port:       DefaultPort,
		listenPort: DefaultListenPort,
		broadcast:  true,
		ipv6:       true,
		interval:   DefaultAnnounceInterval,
		rate:       DefaultRate,
		burst:      DefaultBurst,
		keepalive:  DefaultKeepalive,
	}
}

// parseConfig decodes and validates a block, reporting every problem at
// once with its position.
func parseConfig(cfg base.Config) (settings, error) {
	var c Config
	if err := cfg.Decode(&c); err != nil {
		return settings{}, err
	}
	s := defaultSettings()
	prob := cfg.Problems()
	bad := prob.Add
	for _, pat := range c.Interfaces {
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			bad("interfaces", fmt.Errorf("bad name or pattern %q", pat))
		}
	}
	s.interfaces = c.Interfaces
	group := func(key, v string, want6 bool, into *net.IP) {
		if v == "" {
			return
		}
		ip := net.ParseIP(v)
		switch {
		case ip == nil || !ip.IsMulticast():
			bad(key, fmt.Errorf("%q is not a multicast address", v))
		case (ip.To4() == nil) != want6:
			bad(key, fmt.Errorf("%q is the wrong address family", v))
		default:
			*into = ip
		}
	}
	group("group", c.Group, false, &s.group4)
	group("group6", c.Group6, true, &s.group6)
	port := func(key string, v *int, into *int) {
		if v == nil {
			return
		}
		if *v < 0 || *v > 65535 {
			bad(key, fmt.Errorf("%d is not a port", *v))
		}
		*into = *v
	}
	port("port", c.Port, &s.port)
	port("listen_port", c.ListenPort, &s.listenPort)
	if c.Broadcast != nil {
		s.broadcast = *c.Broadcast
	}
	if c.IPv6 != nil {
		s.ipv6 = *c.IPv6
	}
	for _, u := range c.Unicast {
		a, err := net.ResolveUDPAddr("udp", u)
		if err != nil || a.Port == 0 || a.IP == nil {
			bad("unicast", fmt.Errorf("%q is not an ip:port", u))
			continue
		}
		s.unicast = append(s.unicast, a)
	}
	dur := prob.Duration
	dur("announce_interval", c.AnnounceInterval, &s.interval)
	dur("keepalive", c.Keepalive, &s.keepalive)
	if c.DialTimeout != "" {
		var d time.Duration
		dur("dial_timeout", c.DialTimeout, &d)
		s.dialTimeout = c.DialTimeout
	}
	if c.Rate != nil {
		if *c.Rate <= 0 {
			bad("rate", fmt.Errorf("%v is not positive", *c.Rate))
		}
		s.rate = *c.Rate
	}
	if c.Burst != nil {
		if *c.Burst < 1 {
			bad("burst", fmt.Errorf("%d is less than 1", *c.Burst))
		}
		s.burst = *c.Burst
	}
	if c.MaxQueue != nil {
		if *c.MaxQueue < 1 {
			bad("max_queue", fmt.Errorf("%d is less than 1", *c.MaxQueue))
		}
		s.maxQueue = *c.MaxQueue
	}
	if err := prob.Err(); err != nil {
		return settings{}, fmt.Errorf("config: %w", err)
	}
	return s, nil
}

// directBody is the config block of the embedded direct transport.
func (s settings) directBody(advertise []string) []byte {
	b := []byte("advertise = [")
	for i, a := range advertise {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, a)
	}
	b = append(b, "]\n"...)
	b = append(b, "keepalive = "...)
	b = strconv.AppendQuote(b, s.keepalive.String())
	b = append(b, '\n')
	if s.dialTimeout != "" {
		b = append(b, "dial_timeout = "...)
		b = strconv.AppendQuote(b, s.dialTimeout)
		b = append(b, '\n')
	}
	if s.maxQueue > 0 {
		b = append(b, "max_queue = "...)
		b = strconv.AppendInt(b, int64(s.maxQueue), 10)
		b = append(b, '\n')
	}
	return b
}
