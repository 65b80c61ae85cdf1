// Package onion is the onion packet format: Sphinx-style fixed-size packets
// (one X25519 key agreement per hop, a blinded group element, an encrypted
// per-hop routing command, a header MAC) with a wide-block body cipher and
// single-use reply blocks. SPEC.md is the byte-exact specification and
// testdata/ holds vectors for a second implementation.
//
// It owns packet construction (NewPacket, NewSURB, PacketFromSURB), one
// hop's processing (Unwrap) and reply decryption (SURBKeys.Open). It is pure:
// no I/O, no clocks, no state. Randomness comes from the io.Reader the caller
// passes; replay caches, mix delays and key rotation belong to the caller
// (the router), which feeds Result.ReplayTag to its cache.
//
// Guarantees: every packet is PacketSize bytes at every hop; a relay learns
// its predecessor, its own command and its successor, nothing of the path
// length or its position; a header altered in any bit fails the MAC at the
// next hop (ErrMAC); a body altered in any bit is noise at the final hop
// (ErrPayloadTagged, or SURBKeys.Open fails). All functions are safe for
// concurrent use; values returned are owned by the caller.
package onion
