// Package store owns the host's own durable state, kept in one Pebble
// database: the outbox of sealed outbound packets waiting for an
// acknowledgement, the inbox with its seen set (exactly-once delivery to the
// local application), the peer directory's records and small host metadata.
// It holds no plugin or service data.
//
// # Durability
//
// Every mutation is one Pebble batch committed with pebble.Sync: when a
// method returns nil, its effect survives kill -9 and power loss (as far as
// the file system honours fsync), and a crash never leaves half of a
// mutation behind. Reads see every mutation that returned before they
// started.
//
// # Key layout
//
// Keys are a one-letter prefix and a slash, then the rest; t8 is an 8-byte
// big-endian time (Unix nanoseconds with the sign bit flipped, so byte order
// is time order; the zero time sorts first) and seq8 an 8-byte big-endian
// sequence number.
//
//	m/<key>          meta: caller's bytes as given
//	p/<id>           peer record: caller's bytes as given
//	o/<id>           outbox record (Outgoing, versioned binary)
//	d/<t8 next><id>  outbox due index (empty value), one per outbox record
//	x/<t8 exp><id>   outbox expiry index (empty value), only when Expires is set
//	s/<id>           seen set: received time and the seq it was given
//	r/<t8 recv><id>  seen set by received time (empty value), for PruneSeen
//	i/<seq8>         inbox log entry (InboxItem without Seq, versioned binary)
//	c/inbox-seq      last inbox sequence number assigned (seq8)
//
// Records of this package start with a version byte (currently 1). A record
// that does not decode is reported as an error naming its key; the store
// never panics on bad data.
//
// # Guarantees
//
//   - Outbox: Enqueue is idempotent by ID; Due returns records whose
//     NextAttempt is at or before now, ordered by NextAttempt then ID, by
//     walking the due index (no full scan); DropExpired walks the expiry
//     index likewise.
//   - Inbox: Receive records the id in the seen set and appends the item to
//     the log in the same synced batch, so after any crash an id is in the
//     log only if it is in the seen set, and sequence numbers are contiguous
//     from 1 and never reused, across restarts (until TrimInbox removes a
//     prefix, which leaves the counter as it was). PruneSeen forgets ids by
//     received time; an id pruned from the seen set is no longer recognised
//     as a duplicate, so prune only ids older than any copy could arrive.
//
// # Concurrency
//
// All methods are safe for concurrent use. Outbox mutations are serialised
// by a mutex. Receive numbers receipts under a mutex and group-commits them:
// receipts that arrive while an fsync is in flight share the next batch, and
// batches commit strictly in sequence order, so concurrent receivers share
// fsyncs without ever leaving a gap in the log.
package store
