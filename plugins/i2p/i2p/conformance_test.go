package i2p

import (
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestConformance runs the SDK suite against transports that use the
// private network's SAM bridges (attach mode): each gets its own
// destination and session. The managed mode, where the plugin runs i2pd
// itself, is what TestManagedPair and the two-host test use; the suite
// starts some twenty transports, and an i2pd each would not fit the
// package's time.
//
// Every suite transport uses the same router, a non-floodfill one, with
// zero-hop tunnels: streams go from one destination to another inside
// that router, after a real lease set lookup at the floodfills. Traffic
// between routers is what TestManagedPair and the two-host test carry,
// over one-hop tunnels. Zero hops between two routers made the suite
// depend on one direct router-to-router link, and i2pd bans a peer for
// eight minutes once a connection attempt has failed over every
// transport it has (two routers connecting to each other at the same
// moment at start-up is enough; seen here in info-level logs as
// "Transports: No compatible addresses available"): in one CI run every
// suite pair on one particular pair of routers lost its packets. Tunnels through other routers route around a
// banned peer; a zero-hop link cannot.
//
// start_wait is short: i2pd answers SESSION CREATE only at 3 s readiness
// checks (about 9 s for a fresh destination), so Start returns the
// address at once and packets sent meanwhile wait in the peer queues.
// The bound is generous for a loaded machine; it is only reached on
// failure.
func TestConformance(t *testing.T) {
	n := privateNet(t)
	r := n.Routers[len(n.Routers)-1]
	if r.Floodfill {
		t.Fatalf("router %s is a floodfill; the suite wants lookups to leave its router", r.Name)
	}
	transporttest.RunWith(t, transporttest.Options{Timeout: 180 * time.Second}, func(t *testing.T) transport.Transport {
		return newTransport(t, strings.Replace(attachedBody(r), "tunnel_length = 1", "tunnel_length = 0", 1)+"start_wait = \"10ms\"\n", "")
	})
}
