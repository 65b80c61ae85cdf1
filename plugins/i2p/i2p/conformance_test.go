package i2p

import (
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
func TestConformance(t *testing.T) {
	n := privateNet(t)
	transporttest.RunWith(t, transporttest.Options{Timeout: 90 * time.Second}, func(t *testing.T) transport.Transport {
		return newTransport(t, attachedBody(n), "")
	})
}
