// Package mixkey owns a node's rotating X25519 mix keys: the epoch schedule
// they rotate on, their generation, and the signed mix-key record a node
// publishes so that senders can build onion paths through it.
//
// An epoch is a fixed-length interval counted from a Unix time origin
// (Schedule). Each epoch has its own mix key. A record is valid from the
// start of its epoch less the grace window until the end of the epoch plus
// the grace window, so around a boundary the previous, current and next keys
// may all be in use: senders with slightly wrong clocks still reach the node,
// and packets in flight across a rotation are still opened.
//
// Keys are generated at random per epoch rather than derived from a
// long-term seed: once an epoch's key is deleted (Ring.Prune), a later
// compromise of the node does not reveal the keys that protected old traffic.
// The replay cache is kept per epoch for the same reason: when a key is gone
// its tags can go too.
//
// A packet does not say which epoch's key it was built for, so a relay
// tries the keys of Ring.Accepted in turn with onion.Unwrap (at most three,
// newest likeliest last); the first one whose header MAC verifies names the
// epoch under which the packet's replay tag is checked.
//
// The package is pure: no I/O, no clock (callers pass times), randomness
// from the io.Reader the caller passes. DecodeRecord verifies the record's
// Ed25519 signature, so a record that decodes is authentic; whether it is
// current is the caller's question (Record.ValidAt). Ring is safe for
// concurrent use; other values are not shared.
package mixkey
