// Package policy owns onemfive's ManCon policy language and its pure
// evaluation core.
//
// A policy is HCL (policies/*.hcl; the shipped one is default.hcl, embedded
// and returned by Default). For each ManCon level and each kind of traffic
// (web, p2p) it lists routes: an optional destination pattern, an ordered
// chain of steps (a network such as "i2p" or a class such as "1dn"), the
// onion hops, delays and copies of each step, the peers a step must go
// through (via blocks: "a peer with tor at a lower ManCon fetches"), and
// what to do when the chain is exhausted. Escalate blocks say which levels a
// set of blocked networks implies.
//
// A level block names one level, level "HIGH", or an inclusive range in
// increasing order, level "LOW..HIGH" (the same ".." as "3..12" and
// "4s..10s"), for levels that route alike. A range is shorthand only: each
// level in it gets its own Level with the block's routes and position, so
// evaluation, explanations and the ratchet cannot tell the two forms apart.
// Every level is defined exactly once, alone or in one range; a level
// defined twice is an error naming both blocks, and so are unknown names,
// incomplete ranges ("LOW..") and reversed ones ("HIGH..LOW").
//
// Guarantees:
//
//   - Parse and Load report every problem at once as an *Error whose
//     diagnostics carry file:line:col. Unknown keys, unknown networks and
//     unknown levels are errors. A *Policy that is returned is complete: all
//     six levels, each with a catch-all web and p2p route.
//   - Evaluate, Ratchet and Recommend do no I/O and read no clock: the same
//     inputs give the same Plan, the same events and the same explanation,
//     which is what the golden tests in testdata/ pin down.
//   - A *Policy is immutable after Parse and safe for concurrent use. A
//     Ratchet is not; its owner serialises calls.
//
// The host feeds Evaluate from the registry (network states) and its peer
// directory, and feeds the Ratchet from transport block reports and
// verified deliveries; that wiring, live reload and the CLI live elsewhere.
package policy
