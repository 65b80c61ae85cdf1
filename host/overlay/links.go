package overlay

import (
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Link-scoped networks. Two nodes on the internet-wide networks (direct,
// tor, i2p) can reach each other whenever both are on the network; two
// nodes on a local-link network (lan: WiFi, Bluetooth PAN, a LAN) only when
// they share a link. A path must not ask a relay to forward to a node it
// cannot hear, so a local-link network is split into one label per link,
// "lan@10.77.0.0/24", and consecutive hops must share a label like any
// network. The link is approximated by the address's subnet (/24 for IPv4,
// /64 for IPv6).
var linkScoped = []string{"lan"}

// linkLabels returns the labels of a node's addresses: network names, and
// for a link-scoped network one label per subnet of its addresses.
func linkLabels(addrs map[string][]string) []string {
	var out []string
	for netw, as := range addrs {
		if !slices.Contains(linkScoped, netw) {
			out = append(out, netw)
			continue
		}
		for _, a := range as {
			if l, ok := linkLabel(netw, a); ok && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// linkLabel is "network@subnet" for an ip:port address.
func linkLabel(netw, addr string) (string, bool) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return "", false
	}
	bits := 64
	if ip.Is4() || ip.Is4In6() {
		ip, bits = ip.Unmap(), 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return "", false
	}
	return netw + "@" + p.String(), true
}

// labelNetwork is the network a label belongs to.
func labelNetwork(label string) string {
	n, _, _ := strings.Cut(label, "@")
	return n
}

// expandNetworks turns allowed network names into the labels in use: a
// link-scoped name stands for all its link labels.
func expandNetworks(nets, labels []string) []string {
	var out []string
	for _, n := range nets {
		if !slices.Contains(linkScoped, n) {
			out = append(out, n)
			continue
		}
		for _, l := range labels {
			if labelNetwork(l) == n && l != n {
				out = append(out, l)
			}
		}
	}
	return out
}

// addrOnLink picks, among a node's addresses on network, one on a link this
// node shares (for link-scoped networks); "" when none is.
func addrOnLink(netw string, addrs []string, mine []string) string {
	if !slices.Contains(linkScoped, netw) {
		return ""
	}
	for _, a := range addrs {
		if l, ok := linkLabel(netw, a); ok && slices.Contains(mine, l) {
			return a
		}
	}
	return ""
}
