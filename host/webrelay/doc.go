// Package webrelay carries web streams through a onemfive peer: the
// requester's web proxy opens a stream to a peer that has the network the
// policy asks for (a "via { peer_has = [...] }" step: at HIGH in the
// default policy, a peer with Tor reached over I2P), and that peer dials
// the site and splices the two directions. The requester's side is a
// net.Conn, so CONNECT tunnels (TLS end to end with the site) and plain
// HTTP both work through it; the relay sees the site's name and the bytes
// of plain-HTTP requests, never who asked when the frames travel over
// onion paths.
//
// Frames travel as the payload of envelopes (Service "onemfive.webrelay")
// that the host's courier carries: sealed end to end, retransmitted until
// acknowledged, over whatever route the policy step names (its network and
// onion hops). The courier may deliver a frame more than once or out of
// order, so each direction numbers its frames and the receiver reorders
// and drops duplicates.
//
//	frame: version=1 | type (1) | stream id (16) | seq (8) | body
//	  'O' open     body: chunk (4) | window (2) | networks | target host:port
//	  'V' open via body: chunk (4) | window (2) | networks | hops count (1, 1..MaxVia)
//	                     { network: count 1, name | peer_has: networks (count may be 0) |
//	                       delay min ms (4) | delay max ms (4), max <= MaxHopDelay } | target
//	      networks: count (1, 1..8) { len (1, 1..64) | name }; "*" names any network the relay
//	      relays over (on_failure relay_via_peers)
//	  'A' accepted body: the network the relay dialled
//	  'D' data     body: bytes (at most MaxChunk)
//	  'F' fin      body: "" for a clean end, else why the stream ended
//	  'K' ack      seq: data frames consumed so far (no body)
//
// Data and fin frames are numbered per direction from 0; a sender keeps at
// most window data frames of at most chunk bytes unacknowledged, both
// chosen by the requester in its open frame: large ones (DefaultOptions)
// when the frames travel over plain links, small ones over onion paths,
// where each 1.2 KB of the relay's answer rides on a reply block the
// requester sent ahead (OnionOptions). A receiver acknowledges every
// window/8 frames it consumed (every frame for small windows).
//
// An open via ('V') asks the relay to forward the stream instead of
// fetching: it picks a peer it knows that fits the first hop (its network
// and peer_has), holds the open for a random delay in the hop's range, and
// opens the stream there with the remaining hops (Relay.Forward); the last
// peer fetches over the networks of the open. Only the open is held; the
// data frames that follow are not delayed.
//
// Serving as a relay is opt-in (Config.Serve): a relay fetches (or
// forwards) for others like a Tor exit does, with its own network address.
package webrelay
