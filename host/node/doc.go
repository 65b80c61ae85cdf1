// Package node owns a node's identity: a long-term Ed25519 signing key, a
// static X25519 key for end-to-end sealing, the node id derived from the
// Ed25519 public key, the signed peer record a node shares with others, and
// the encrypted-at-rest key file.
//
// A peer record binds a node id to its X25519 key and to the transport
// addresses it can be reached at, per network. Records are signed by the
// node's Ed25519 key; DecodeRecord verifies the signature, so a record that
// decodes is authentic (though it may be stale: compare Issued).
package node
