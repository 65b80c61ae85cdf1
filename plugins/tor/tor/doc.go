// Package tor is the "tor" transport plugin: it carries the host's sealed
// packets between v3 onion services ("<56 chars>.onion:<port>") through a
// tor it starts (tor_path, data_dir, extra torrc lines, bridges and
// pluggable transports from its config block) or one it attaches to
// (control_addr, cookie or password authentication). It uses cretz/bine
// for tor's control protocol; that import stays inside this package.
//
// Inbound: one onion service per node, with its ed25519 key kept in tor's
// data directory (KeyFile), so the address is the same after restarts.
// Tor forwards its streams to a listener on 127.0.0.1. Outbound: one
// stream per destination through tor's SOCKS port, carrying
// length-prefixed frames (frame.go): a hello naming the sender's onion
// address, then one data frame per packet. Streams are one-way: the side
// that dialled writes. A received packet's Addr is the address the
// sender's hello announced, so replying to it dials the sender's own
// onion service; it is not authenticated here (the host authenticates
// everything it accepts).
//
// Guarantees:
//   - Send validates the whole batch (size, onion address) and refuses it
//     as a whole; it copies payloads. Per peer a queue of max_queue
//     packets: while the stream is up a full queue makes Send wait
//     (bounded by ctx); while it is being dialled a full queue drops
//     (Stats.Dropped). A failed dial is retried with backoff (100 ms
//     doubling to 10 s) while packets stay queued.
//   - Status: bootstrap progress is reported as it happens (State
//     starting, Progress, Phase = tor's bootstrap tag, Summary), then
//     ready once bootstrap is at 100% and the onion service descriptor is
//     uploaded. Blocked (with a Reason) when bootstrap sits in one phase
//     past bootstrap_deadline, when tor reports the same bootstrap problem
//     max_failures times (guard or bridge connection failures, directory
//     fetch failures), or on clock skew; ready again when bootstrap
//     reaches 100%. Circuit failures are reported (Phase
//     "circuit_failed").
//   - A managed tor that exits (a crash, kill -9) is restarted with the
//     same data directory and key: same onion address. Events: Phase
//     "tor_restart", then bootstrap progress again. tor gets a
//     parent-death signal, so it does not outlive the plugin. Attached,
//     a lost control connection (tor exited or dropped it) is noticed
//     when the events connection ends and handled the same way: Phase
//     "tor_restart" with the reason, then reattaching to control_addr
//     with backoff (restart = false: failed, Phase "tor_exited").
//   - Stop closes every stream, stops a managed tor (an attached tor keeps
//     running; its onion service goes with the control connection),
//     reports stopped, and then calls the host no more.
package tor
