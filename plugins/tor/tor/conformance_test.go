package tor

import (
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestConformance runs the SDK suite against transports that each run
// their own tor, joined to the private network, talking over onion
// services.
func TestConformance(t *testing.T) {
	n := privateNet(t)
	// A first packet to a fresh onion service waits for its descriptor,
	// an introduction and a rendezvous: seconds when idle, tens of
	// seconds on a busy machine.
	transporttest.RunWith(t, transporttest.Options{Timeout: 60 * time.Second}, func(t *testing.T) transport.Transport {
		return newTransport(t, n.ClientTorrc(), "")
	})
}
