package router

import (
	"crypto/ecdh"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
)

// Candidate is a relay a path may go through.
type Candidate struct {
	ID node.ID
	// MixKey is the relay's current X25519 mix key.
	MixKey *ecdh.PublicKey
	// Networks the relay can be reached on (transport plugin names).
	Networks []string
	// Groups are labels of who controls the relay's location: subnet
	// prefixes (SubnetGroups) and operator tags ("op:<name>"). Two hops
	// of one path never share a label.
	Groups []string
	// Weight is the relative chance of being chosen; 0 counts as 1.
	Weight uint32
}

// FromRecord makes a candidate from a verified peer record and the relay's
// current mix key. operator, when not empty, becomes the group "op:"+operator.
func FromRecord(rec *node.Record, mixKey *ecdh.PublicKey, operator string) Candidate {
	c := Candidate{ID: rec.ID, MixKey: mixKey, Groups: SubnetGroups(rec.Addresses)}
	for n := range rec.Addresses {
		c.Networks = append(c.Networks, n)
	}
	slices.Sort(c.Networks)
	if operator != "" {
		c.Groups = append(c.Groups, "op:"+operator)
	}
	return c
}

// Hop converts the candidate into an onion hop that holds a packet for delay.
func (c Candidate) Hop(delay time.Duration) (onion.Hop, error) {
	_, pub, err := node.ParseID(string(c.ID))
	if err != nil {
		return onion.Hop{}, fmt.Errorf("router: hop: %w", err)
	}
	if c.MixKey == nil {
		return onion.Hop{}, fmt.Errorf("router: hop %s: no mix key", c.ID.Short())
	}
	h := onion.Hop{Key: c.MixKey, Delay: delay}
	copy(h.ID[:], pub)
	return h, nil
}

// SubnetGroups derives subnet labels from addresses by network: for each
// address whose host is an IP literal, "ip4:<a.b.0.0/16>" or
// "ip6:<prefix/32>". Loopback, link-local and unspecified addresses give no
// label (a local testnet runs every node on 127.0.0.1), nor do names such as
// onion or I2P addresses. The result is sorted without duplicates.
func SubnetGroups(addrs map[string][]string) []string {
	var out []string
	for _, as := range addrs {
		for _, a := range as {
			host := a
			if h, _, err := net.SplitHostPort(a); err == nil {
				host = h
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				continue
			}
			ip = ip.Unmap().WithZone("")
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
				continue
			}
			if ip.Is4() {
				p, _ := ip.Prefix(16)
				out = append(out, "ip4:"+p.String())
			} else {
				p, _ := ip.Prefix(32)
				out = append(out, "ip6:"+p.String())
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
