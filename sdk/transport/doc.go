// Package transport is the contract of a transport plugin: something that
// moves opaque packets between transport addresses (host:port, an onion or
// .b32.i2p address, ...). Transports never see plaintext or routing
// information; everything they carry is already sealed by the host.
//
// Lifecycle: Info, Configure, Start, any number of Send calls (concurrently),
// Stop. Packets are datagrams: Send is best effort and returns once the
// transport has accepted the batch; reliability is end to end, in the host.
// Received packets and status events flow to the Host given to Start until
// Stop returns.
//
// Optional abilities are separate interfaces: Dialer for byte streams (web
// traffic); Announcer for transports that discover nearby peers themselves
// (the host hands them its signed peer record to advertise, and they report
// records they hear to a Host that is a Discoverer; such a transport lists
// "announce" in Info.Capabilities). The subpackage transporttest holds the conformance suite and
// memnet an in-memory transport.
package transport
