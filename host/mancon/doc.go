// Package mancon holds a node's live ManCon state: the policy in force
// (loaded from the configured files, or the built-in default), the
// escalation ratchet, and the state of each network as its transport
// reports it. It answers "how should this envelope travel now?" with a
// policy.Plan and its explanation, and reports every change of the
// effective level and every reload as an Event.
//
// Reloads are atomic: an edit that does not parse is refused with every
// diagnostic and the previous policy stays in force. The ratchet survives a
// reload: it is rebuilt on the new policy and fed the blocks still in force,
// and it keeps its level if that is higher.
//
// All methods are safe for concurrent use. The pure parts (policy language,
// evaluation, ratchet) live in package policy; this package adds the clock,
// the files and the locking.
package mancon
