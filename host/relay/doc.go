// Package relay is the relay side of the onion router: it takes one onion
// packet that arrived on some network, opens it with this node's mix keys,
// refuses replays, and either holds the re-wrapped packet for its mixing
// delay and then hands it to a Forwarder, or hands a final payload to a
// Deliverer. The packet format itself is host/onion (pure); the keys are
// host/mixkey; the replay cache and the mixing queue live in host/store.
//
// A Processor is built explicitly with New from a Config; nothing is global.
// Process handles one packet; Run forwards held packets when they fall due.
//
// # Keys and epochs
//
// A packet does not name its epoch, so Process tries the keys
// mixkey.Ring.Accepted returns at the Processor's clock, oldest first; the
// first whose header MAC verifies names the epoch. When none does, it tries
// the keys the ring still holds outside their acceptance window: a match
// there is dropped as wrong-epoch (counted apart from a bad MAC, which
// covers bit-flipped headers and packets for keys this node never had).
//
// # Replay cache
//
// Replay tags are checked per epoch (store.ReplayCache.SeenTag) before the
// packet is acted on, and the tag is stored with a synced commit first:
// a copy replayed after a crash or restart is still dropped. The cache of an
// epoch can go when its key goes (PruneEpochsBefore).
//
// # Mixing queue durability
//
// A relay packet with a non-zero delay is written to the mixing queue
// (store.MixQueue: due time, next hop id, packet) with a synced commit
// before Process returns; after a restart, Run forwards whatever is held
// when it falls due (at once if it is already late). A held packet is
// released from the queue only after Forward returned, so a crash in
// between forwards it twice; the next hop's replay cache drops the second
// copy. A packet whose delay is zero is forwarded from Process directly and
// never written: a crash during that call loses it (its tag is already
// stored), which a mix network tolerates as loss, not duplication.
// A Forward or Deliver error drops the packet (counted); retrying belongs
// to the caller's Forwarder.
//
// # Ordering
//
// None across packets: packets leave in due-time order, but delays are
// chosen by senders and Process may be called concurrently, so two packets
// may leave in any order relative to their arrival.
//
// # Drops
//
// Every packet Process refuses is counted by reason in Stats (replayed, bad
// MAC, wrong epoch, wrong size, malformed, tagged payload, store error, no
// key, delay above Config.MaxDelay) and Process returns an error wrapping
// the reason's sentinel (ErrReplayed, ErrWrongEpoch, ErrNoKey, ErrDelay,
// ErrStore, or the onion error). Test mode: Config.Observe, when set, is
// called once per packet with what this node saw, so a multi-node test can
// check that no relay saw both ends of a path.
//
// Process, FlushDue and Stats are safe for concurrent use; Run is called once.
package relay
