// Package transporttest is the conformance suite for transport plugins and
// the helpers it is built from. A third party runs it against its own
// transport from an ordinary test:
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, func(t *testing.T) transport.Transport {
//			tr := mytransport.New()
//			if err := tr.Configure(context.Background(), base.Config{}); err != nil {
//				t.Fatal(err)
//			}
//			return tr
//		})
//	}
//
// The factory returns a fresh, already configured transport that can reach
// every other transport the same factory made; the suite starts and stops
// them. What the suite checks: Info; Start, addresses and the ready event;
// delivery both ways with bytes intact for every size up to
// transport.MaxPacketSize and a reply to the received Packet.Addr; batches
// and concurrent senders with no loss (the suite runs on loopback or in
// memory, where loss is a bug); refusal of oversized packets and malformed
// addresses; Send after Stop; idempotent Stop; unreachable peers never
// wedging sends to good ones; and a slow Host.Deliver causing neither loss
// nor deadlock.
//
// The bulk subtests (batches, concurrency, unreachable peers, slow Deliver)
// first exchange one packet each way, so a connection-oriented transport
// may drop what overflows its queue while it connects; the first packets to
// a brand-new peer (Delivery: twenty single-packet Sends) must still arrive.
//
// Waits are bounded by Timeout (a missing packet fails the test); nothing in
// the suite asserts speed.
//
// Recorder is the transport.Host the suite uses; it is exported so other
// tests can reuse it.
package transporttest
