// Package overlay is the host's onion layer: it relays other nodes' onion
// packets, sends this node's messages over onion paths, and makes this node
// reachable by id alone through lease sets. The pure parts live elsewhere:
// the packet format in host/onion, mix keys in host/mixkey, path choice in
// host/router, lease sets in host/lease, the relay step (unwrap, replay
// cache, durable mixing queue) in host/relay. This package wires them to the
// store and the transports.
//
// # On the wire
//
// An onion packet travels on a transport as PacketTag followed by its
// onion.PacketSize bytes, so every overlay packet has the same length on
// every link. What a final hop reads is a fragment of a message or a
// gateway request (msg.go has the formats). Messages are fragmented into
// ChunkSize pieces and reassembled at the receiver (bounded: 1024 partial
// messages, 16 MiB, two minutes), and completed message ids are remembered
// for ten minutes, so a retransmitted fragment is not delivered twice.
//
// # Reaching a node by id
//
// A node that publishes (Config.Publish) picks Gateways relays and makes,
// for each, RepliesPerLease reply blocks (default 3 and 4) (SURBs) whose route runs from the
// gateway through its guard (or a random relay) to itself; it signs them
// into a lease set and stores it, with its bare record (keys, no
// addresses), sealed in an envelope under its key blinded for the 24 h
// period (lease.Seal: the storer verifies the blinded signature but cannot
// tell whose set it is or read the gateways), at the three nodes closest
// to that blinded key (XOR over SHA-256, lease.Closest), each over its own
// onion path; near a period's end it stores under the next period's key
// too. It
// republishes at three quarters of the lifetime, or as soon as half the
// reply blocks were used (each carries one packet: relays drop replays).
//
// A sender that knows only an id derives its blinded key for the current
// period and asks the three nodes closest to that key that it knows
// (Resolve), walking closer with the records they answer with; it opens
// the envelope with a key only the id gives. Each query goes on its own
// path and carries reply blocks, so a storer answers without learning who
// asked. With the lease
// set the sender sends every fragment on its own path to a gateway, with a
// gateway request holding one reply block: the gateway fills the block and
// relays the packet along the reply route. The sender never learns the
// receiver's address; the receiver never learns the sender's; the gateway
// sees neither.
//
// A data message sent to a node id carries three reply blocks back to its sender, kept in a
// pool under a handle the courier acknowledges to (IsHandle, Bind), so
// acknowledgements and answers need no lease set of the sender. Replies,
// too, travel on the replier's own path to the block's first hop.
//
// # Guards and liveness
//
// The first relay of every path and the last relay of every reply route is
// a guard: configured, or picked once among the relays this node shares a
// link with and kept (guards.go). Loop probes (probe.go) and transport dial
// failures tell a node which relays are down (suspect.go); those are left
// out of paths, reply routes and gateways while others can take their place,
// and a retransmitted message avoids the relays of its earlier attempts.
//
// # Guarantees and limits
//
// Mix keys rotate per epoch and are sealed at rest under a key derived from
// the node key (keys.go); a replayed packet is dropped after a restart too
// (host/relay). Reply-block keys are sealed the same way and kept in the
// store (Config.ReplyKeys, replykeys.go; written without fsync, so a crash
// can lose the newest), so replies on blocks made before a restart, a
// lease set's included, still open; lease caches are in memory and the
// lease set is republished after a restart. Storers hold a lease set sealed
// under the owner's blinded key: they learn neither whose it is nor its
// gateways. A lookup walks towards the storage key: storers without the
// set name the relays they know closest to it (Resolve, up to four
// rounds), and the set carries its gateways' records, so a node that knows
// few relays still finds the set and builds paths to its gateways.
package overlay
