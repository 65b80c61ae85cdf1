// Package direct is the "direct" transport plugin: plain TCP between
// host:port addresses, for links where no anonymity network is needed or
// available (LAN, namespaces in tests, a 1DN hop the host has already
// onion-wrapped). It never sees plaintext: it moves the host's sealed
// packets as opaque bytes.
//
// Wire: one TCP connection per peer pair, whichever side dialed it, carrying
// length-prefixed frames (see frame.go): hello (the sender's advertised
// address, so the receiver can label packets with a dialable source and
// reply over the same connection), data (a batch of packets), and ping/pong.
// A connection with no frame for three keepalive intervals is closed. When
// both sides dial at once, both keep using the connection dialed by the side
// whose advertised address sorts first; the other goes idle and is closed.
//
// Guarantees:
//   - Send validates the whole batch first (size, host:port address) and
//     refuses it as a whole; it copies payloads.
//   - Per peer, packets wait in a queue bounded by max_queue. While the peer
//     is connected a full queue makes Send wait (backpressure, bounded by
//     ctx and by the connection's write timeout); while it is being dialed a
//     full queue drops packets. Drops are counted (Stats) and reported as
//     events with Phase "dropped" or "dial_failed". Nothing grows without
//     bound.
//   - A failed dial drops what was queued for that peer and backs off
//     (100 ms doubling to 30 s) before the next dial, which the next Send
//     triggers.
//   - A malformed frame closes that connection and is logged with the peer
//     and the problem; it never panics and never affects other peers.
//   - Events: starting, ready (listen address), link_up/link_down (Peers is
//     the number of peers with a live connection), stopped before Stop
//     returns. Deliver and Event are not called after Stop returns.
package direct
