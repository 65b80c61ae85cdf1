// Package wire adapts the public plugin contract (sdk/base, sdk/transport,
// sdk/service) to the gRPC services of sdk/internal/pb, both ways: plugin
// side servers wrap an implementation, host side clients implement the
// contract interfaces on top of a go-plugin gRPC connection.
//
// Guarantees:
//
//   - Packets cross on one long-lived bidirectional stream per started
//     transport. Concurrent host Sends are coalesced by a single writer into
//     batches of at most MaxBatchPackets packets and MaxBatchBytes bytes;
//     each Send blocks until the plugin's Transport.Send accepted or refused
//     its packets, or ctx is done. Received packets travel the other way in
//     batches under credit-based flow control, and send results never wait
//     for that credit, so a host slow to take received packets cannot
//     deadlock its own sends.
//   - Events are buffered in the plugin (Host.Event never blocks); when the
//     buffer overflows the oldest non-critical event is dropped and counted,
//     blocked and failed events are never dropped.
//   - Streams open before the Start RPC, and the plugin buffers by session,
//     so no event or packet emitted during Start is lost. After the host's
//     Stop returns, every event and packet the plugin emitted before its
//     Transport.Stop returned has been handed to the host.
//   - Discovered peer records (transport.Discoverer) travel on their own
//     server stream, opened with the others before Start and only when the
//     host's Host is a Discoverer; the plugin buffers a bounded number and
//     drops the oldest (counted) past it, since announcements repeat.
//     Announce is a unary call that fails with ErrUnsupported when the
//     plugin's transport is not a transport.Announcer.
//   - A plugin that died (process gone, connection closed) makes every
//     client method return an error wrapping ErrPluginGone.
package wire
