// Package seal is the end-to-end encryption between two nodes: a message
// sealed to a recipient's static X25519 key, authenticated by the sender's
// static X25519 key, padded to a size bucket. It is pure (no I/O) and is what
// every transport carries until the onion layer wraps it in relay paths.
//
// Construction (version 1), in the spirit of the Noise X pattern:
//
//	e      = fresh X25519 key pair
//	es     = X25519(e, R)            R: recipient static public key
//	ss     = X25519(S, R)            S: sender static private key
//	k1     = HKDF-SHA256(es,      salt = e.pub || R, info = "onemfive/seal/v1/static")
//	k2     = HKDF-SHA256(es || ss, salt = e.pub || R, info = "onemfive/seal/v1/body")
//	packet = 0x01 | e.pub (32) | AEAD(k1, S.pub) (48) | AEAD(k2, pad(msg))
//
// AEAD is ChaCha20-Poly1305 with a zero nonce (every key is used once: e is
// fresh) and the first 33 bytes as associated data. pad(msg) is a 4-byte big
// endian length, msg, then zeros, so that the whole packet is exactly one of
// the bucket sizes (1 KiB doubling up to 64 KiB): an observer learns the
// bucket, not the length. The sender is hidden from observers (its static key
// is encrypted) and authenticated to the recipient (only S's holder can
// compute ss). Replays are the caller's concern (message ids are deduplicated
// above this layer).
package seal
