// Package courier moves envelopes between nodes reliably: it seals each
// envelope to the destination node's key (package seal), keeps it in the
// durable outbox until the destination acknowledges it, retransmits with
// backoff over whichever network is live, and on the receiving side stores
// each envelope exactly once (keyed by sender and envelope id) before it
// acknowledges, so that neither a transport plugin crash nor a host kill -9
// loses an envelope or delivers one twice to the application.
//
// Guarantees: an envelope accepted by Send is on disk before Send returns.
// An envelope is acknowledged only after the receiver has durably stored it.
// Delivery to the receiving application is exactly once per (sender, id).
// Order across envelopes is not preserved.
//
// The onion layer (relay paths, lease sets, fixed-size Sphinx packets) will
// sit between this package and the transports; until then a sealed packet
// goes straight to an address from the destination's peer record.
package courier
