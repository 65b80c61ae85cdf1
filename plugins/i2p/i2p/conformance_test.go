package i2p

import (
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestConformance runs the SDK suite against transports that use the
// private network's SAM bridges (attach mode, taking the routers in
// turn): each gets its own destination and session, and they talk over
// one-hop tunnels. The managed mode, where the plugin runs i2pd itself, is
// what TestManagedPair and the two-host test use; the suite starts some
// thirty transports, and an i2pd each would not fit the package's time.
//
// start_wait is short: i2pd answers SESSION CREATE only at 3 s readiness
// checks (about 9 s for a fresh destination), so Start returns the
// address at once and the suite's transports build their sessions in
// parallel; packets sent meanwhile wait in the peer queues. Tunnels are
// zero-hop here (the router itself is the gateway): with one-hop tunnels
// a session takes 3 to 27 s depending on which builds fail, and the
// suite's thirty sessions would not fit the package's time. Tunnels
// through other routers are what the two-host and managed tests use.
// The bound is generous: a first stream to a fresh destination waits for
// its lease set, which on a loaded machine took over 90 s once in CI.
func TestConformance(t *testing.T) {
	n := privateNet(t)
	transporttest.RunWith(t, transporttest.Options{Timeout: 180 * time.Second}, func(t *testing.T) transport.Transport {
		return newTransport(t, strings.Replace(attachedBody(n), "tunnel_length = 1", "tunnel_length = 0", 1)+"start_wait = \"10ms\"\n", "")
	})
}
