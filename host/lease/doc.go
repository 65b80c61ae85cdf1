// Package lease owns the lease-set format: how a node that wants to be
// reachable without revealing where it is says "send to me through these
// gateways". A lease set names its owner, when it was issued and when it
// expires, and a few leases; each lease is a gateway relay and one or more
// onion reply blocks (host/onion SURBs) whose routes start at that gateway
// and end at the owner. The owner signs the whole set with its Ed25519
// identity key.
//
// Lease sets are stored sealed (Seal, DecodeStored; blinded.go) under the
// owner's key blinded per period, by the peers whose ids are closest to
// that blinded key (Closest: XOR distance over SHA-256 of node ids, as in
// Kademlia), and republished before they expire (NeedsRefresh). Storers
// verify an envelope's signature by the blinded key; they do not learn the
// owner and cannot read the gateways.
//
// A SURB is single-use: relays drop a second packet with the same replay
// tag, so each reply block in a lease carries one message. Owners therefore
// put several reply blocks in each lease and republish when they run low
// or the set nears expiry.
//
// The package is pure: no I/O, no clock (callers pass times; Seal takes
// its randomness as an io.Reader). Decode checks
// the size limits, structure and signature, so a lease set that decodes is
// authentic and well formed; whether it is the owner you wanted and still
// current is checked by Verify. Values are not shared between goroutines by
// this package.
package lease
