// Package memnet is an in-memory transport for tests and examples: a Network
// whose zero value is ready to use hands out Transports addressed
// "mem:<name>" that move packets between each other without sockets.
//
// Guarantees:
//   - Packets are copied on Send; the caller may reuse its buffers at once.
//   - Send to an address no started transport holds is dropped silently, as
//     a datagram network would, and counted (Network.Dropped).
//   - Delivery is lossless between started transports: each receiver has a
//     bounded inbox drained by one goroutine that calls Host.Deliver, and a
//     Send to a full inbox waits (backpressure) until there is room, the
//     receiver stops, or ctx is done. Packets from one sender to one receiver
//     arrive in order.
//   - Events: Start reports starting then ready; Stop reports stopped before
//     it returns. After Stop returns no Deliver or Event call is made, and
//     Send fails with ErrStopped.
//   - Dial (transport.Dialer) connects to a Listener opened on the same
//     Network with net.Pipe.
//
// The zero value of Transport also works: it lives alone on a private
// Network under the name "mem", so it can only reach itself.
package memnet
