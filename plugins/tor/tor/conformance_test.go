package tor

import (
	"testing"

	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestConformance runs the SDK suite against transports that each run
// their own tor, joined to the private network, talking over onion
// services.
func TestConformance(t *testing.T) {
	n := privateNet(t)
	transporttest.Run(t, func(t *testing.T) transport.Transport {
		return newTransport(t, n.ClientTorrc(), "")
	})
}
