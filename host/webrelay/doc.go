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
//	  'O' open     body: chunk (4) | window (2) | networks count (1) { len (1) | name } | target host:port
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
// Serving as a relay is opt-in (Config.Serve): a relay fetches for others
// like a Tor exit does, with its own network address.
package webrelay
