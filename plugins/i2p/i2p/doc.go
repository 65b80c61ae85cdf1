// Package i2p is the "i2p" transport plugin: it carries the host's sealed
// packets between I2P destinations ("<52 chars>.b32.i2p") over SAM v3
// STREAM sessions of an i2pd it starts (i2pd_path, data_dir, i2pd.conf
// settings from its config block) or of an existing router's SAM bridge
// (sam_addr, with control_addr for I2PControl figures). It uses
// eyedeekay/sam3 for the SAM control exchanges; that import, whose package
// init does network I/O, stays inside this package. The i2pd helpers
// shared with the private test network live in package i2pd.
//
// Inbound: one destination per node, its keys in data_dir (KeysFile), so
// the .b32.i2p address is the same after restarts; one STREAM session,
// on which the plugin keeps a STREAM ACCEPT pending. Outbound: one stream
// per destination, carrying a version byte and length-prefixed packets
// (frame.go). Streams are one-way: the side that dialled writes. A
// received packet's Addr is the dialling destination as the router
// reports it (I2P's streaming layer authenticates it), so replying to it
// reaches the sender's own destination.
//
// Streams, not repliable datagrams: packets go up to 64 KiB while a SAM
// datagram carries about 31 KiB; datagrams are not retransmitted and the
// first one to a destination is usually lost while its lease set is
// looked up (measured on the private network), so the host would see
// loss on every new peer; a stream costs one connect round trip per peer
// and then gives ordered, retransmitted delivery with an authenticated
// sender. The transport sends nothing that needs datagrams' lower
// latency on an idle path.
//
// Bounded SAM calls: sam3 has no deadlines, so every SAM exchange runs
// under a context (sam_timeout, session_timeout, dial_timeout) that
// aborts it by closing or expiring its connection; a bridge that accepts
// the connection and never answers fails Start within sam_timeout. STREAM
// CONNECT and STREAM ACCEPT are done by this package (sam.go) because
// sam3 reads their replies through buffers that can swallow the first
// bytes of the stream.
//
// Status, from I2PControl (JSON-RPC on the managed i2pd, chosen over the
// web console because it answers structured figures without scraping
// HTML: known and connected routers, bytes received, tunnel creation
// success rate) and
// from the SAM bridge itself: progress events (sam 10, reseeded 30, peers
// 50, building_tunnels 70, ready 100 once SESSION CREATE returns, which
// i2pd does when the session's tunnels are built and its lease set is
// made and published). Blocked with reasons: SAM unreachable; nothing
// received from any router for peer_deadline (i2pd's active peer count
// includes routers it is still dialling) ("no peers after reseed" when the
// netdb is empty); reseed failure (from i2pd's log); tunnel creation
// success rate below min_tunnel_success while the session cannot be made.
// Each clears when the router recovers.
//
// Guarantees:
//   - Send validates the whole batch (size, .b32.i2p address) and refuses
//     it as a whole; it copies payloads. Per peer a queue of max_queue
//     packets: while the stream is up a full queue makes Send wait
//     (bounded by ctx); while it is being opened a full queue drops
//     (Stats.Dropped). A failed connect (CANT_REACH_PEER while a fresh
//     lease set propagates) is retried with backoff (100 ms doubling to
//     4 s; every 250 ms while this node's own session is still being
//     made) while packets stay queued.
//   - A managed i2pd that has received nothing for twice peer_deadline is
//     restarted (i2pd will not retry routers it failed to reach for eight
//     minutes; a new one reseeds and tries them all).
//   - A managed i2pd that exits (a crash, kill -9) is restarted with the
//     same data directory; the session is made again with the same keys:
//     same address. A lost session (attached router restarted) is made
//     again with backoff. i2pd gets a parent-death signal, so it does not
//     outlive the plugin.
//   - Stop closes every stream and the session, stops a managed i2pd (an
//     attached router keeps running), reports stopped, and then calls the
//     host no more.
package i2p
