package lan

import (
	"net"
	"path"
	"strconv"
)

// link is one selected interface and its addresses.
type link struct {
	ifi net.Interface
	v4  []*net.IPNet
	v6  []*net.IPNet // including link-local
}

func (l link) multicast() bool { return l.ifi.Flags&net.FlagMulticast != 0 }

// listInterfaces is net.Interfaces with addresses; a variable so tests can
// present made-up interfaces.
var listInterfaces = func() ([]link, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]link, 0, len(ifs))
	for _, ifi := range ifs {
		l := link{ifi: ifi}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if n.IP.To4() != nil {
				l.v4 = append(l.v4, n)
			} else {
				l.v6 = append(l.v6, n)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// selectLinks picks the interfaces to use: those matching patterns, or by
// default every up, non-loopback interface that can multicast or broadcast.
// Either way an interface must be up and have an address.
func selectLinks(all []link, patterns []string) []link {
	var out []link
	for _, l := range all {
		if l.ifi.Flags&net.FlagUp == 0 || len(l.v4)+len(l.v6) == 0 {
			continue
		}
		if len(patterns) == 0 {
			if l.ifi.Flags&net.FlagLoopback != 0 || l.ifi.Flags&(net.FlagMulticast|net.FlagBroadcast) == 0 {
				continue
			}
			out = append(out, l)
			continue
		}
		for _, p := range patterns {
			if ok, _ := path.Match(p, l.ifi.Name); ok {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// advertise lists the link addresses peers dial: every IPv4 address and
// every IPv6 address that is not link-local (a link-local address needs a
// zone that names the receiver's interface, which the sender cannot know).
func advertise(links []link, port int) []string {
	var out []string
	p := strconv.Itoa(port)
	for _, l := range links {
		for _, n := range l.v4 {
			out = append(out, net.JoinHostPort(n.IP.String(), p))
		}
		for _, n := range l.v6 {
			if !n.IP.IsLinkLocalUnicast() {
				out = append(out, net.JoinHostPort(n.IP.String(), p))
			}
		}
	}
	return out
}

// broadcastAddr is the directed broadcast address of an IPv4 network, or
// nil for a /31 or /32.
func broadcastAddr(n *net.IPNet) net.IP {
	ip, mask := n.IP.To4(), n.Mask
	if ip == nil || len(mask) != net.IPv4len {
		return nil
	}
	if ones, _ := mask.Size(); ones >= 31 {
		return nil
	}
	b := make(net.IP, net.IPv4len)
	for i := range b {
		b[i] = ip[i] | ^mask[i]
	}
	return b
}

func names(links []link) []string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = l.ifi.Name
	}
	return out
}
