// Package lan is the "lan" transport plugin: direct TCP links to peers on
// the local IP links this node has, found without any server by signed
// announcements sent over UDP multicast (IPv4 and IPv6 link-local) and
// broadcast.
//
// Discovery: the host hands the transport its signed peer record
// (transport.Announcer); the plugin never holds node keys. Every announce
// interval (default 2 s, with jitter) the record goes out in an
// announcement frame (see frame.go: magic, version, sequence number,
// record) on every selected interface: to the IPv4 group, the interface's
// IPv4 broadcast address, the IPv6 link-local group, and any configured
// unicast targets. A received frame is, in order: rate limited per source
// address (a token bucket, before any signature check), decoded, its record
// verified (host/node: Ed25519 signature over node id, X25519 key, addresses
// per network, Issued) and required to list a "lan" address, then checked
// for freshness: a record whose signed Issued time is not newer than the
// last heard from that node, with a sequence number not higher, is a replay
// and dropped. A new or newer record is reported to the host
// (transport.Discoverer), which verifies it again and stores it; repeats
// only keep the peer counted as seen. Forged, truncated and replayed frames
// are counted (Stats) and never reach the host.
//
// Links: an embedded direct transport (plugins/direct/direct) carries the
// packets: framing, keepalive (2 s here, so a cut link is noticed within
// about six seconds), reconnect and backpressure are its. It accepts on
// listen_port and advertises the selected interfaces' addresses, which the
// host lists in its record under network "lan".
//
// Events: ready (interfaces and addresses), peer_seen and peer_lost (a peer
// not heard for three intervals; Summary says how many peers are seen),
// link_up and link_down (Peers is the number of live links), stopped. No
// usable interface is a failed event with phase "no_interfaces" and a
// failed Start, which the host retries with backoff.
package lan
