package daemon

import (
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/overlay"
)

// TestOnionAddr: the parameters an envelope's step asks for travel in its
// courier address, so two envelopes to one node keep their own.
func TestOnionAddr(t *testing.T) {
	id, err := node.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	frame := overlay.Params{Hops: 1, Networks: []string{"i2p"}, Replies: 12}
	msg := overlay.Params{Hops: 2, DelayMin: 4 * time.Second, DelayMax: 10 * time.Second, Networks: []string{"i2p", "tor"}}
	a, b := onionAddr(id.ID(), frame), onionAddr(id.ID(), msg)
	if a == b {
		t.Fatalf("one address %q for two parameter sets", a)
	}
	for _, c := range []struct {
		addr string
		want overlay.Params
	}{{a, frame}, {b, msg}} {
		dest, p, err := parseOnionAddr(c.addr)
		if err != nil {
			t.Fatalf("%q: %v", c.addr, err)
		}
		if dest != string(id.ID()) || p.Hops != c.want.Hops || p.DelayMin != c.want.DelayMin || p.DelayMax != c.want.DelayMax ||
			p.Replies != c.want.Replies || len(p.Networks) != len(c.want.Networks) {
			t.Fatalf("%q parsed to %s %+v, want %+v", c.addr, dest, p, c.want)
		}
		for i := range p.Networks {
			if p.Networks[i] != c.want.Networks[i] {
				t.Fatalf("%q: networks %v, want %v", c.addr, p.Networks, c.want.Networks)
			}
		}
	}
	if dest, p, err := parseOnionAddr("h:abc"); err != nil || dest != "h:abc" || p.Hops != 2 {
		t.Fatalf("bare handle: %q %+v %v", dest, p, err)
	}
	for _, bad := range []string{"x?hops=99", "x?hops=-1", "x?hops=1&delay=9s..1s", "x?hops=1&replies=1000", "x?%zz", "x?hops=1&delay=nope"} {
		if _, _, err := parseOnionAddr(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseOnionAddr(f *testing.F) {
	f.Add("id?hops=2&delay=4s..10s&net=i2p,tor&replies=12")
	f.Add("h:0011")
	f.Fuzz(func(t *testing.T, addr string) {
		dest, p, err := parseOnionAddr(addr)
		if err != nil {
			return
		}
		if p.Hops < 0 || p.Replies < 0 || p.Replies > overlay.MaxReplies || p.DelayMax < p.DelayMin {
			t.Fatalf("%q parsed to out-of-range %+v", addr, p)
		}
		if strings.Contains(addr, "?") {
			again, p2, err := parseOnionAddr(onionAddr(node.ID(dest), p))
			if err != nil || again != dest || p2.Hops != p.Hops || p2.Replies != p.Replies {
				t.Fatalf("%q: round trip %q %+v %v", addr, again, p2, err)
			}
		}
	})
}
