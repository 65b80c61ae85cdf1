package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// InboxItem is one message delivered to the local application, in the order
// of its sequence number.
type InboxItem struct {
	Seq      uint64
	ID, From string
	Received time.Time
	Data     []byte
}

// Receive records a message for exactly-once delivery. If id was already
// received (and not pruned from the seen set), it returns dup=true and the
// seq first assigned, and changes nothing. Otherwise, in one synced batch, it
// adds id to the seen set and appends the item to the inbox log under the
// next sequence number, which it returns.
func (s *Store) Receive(id, from string, data []byte, now time.Time) (seq uint64, dup bool, err error) {
	if id == "" {
		return 0, false, errors.New("store: receive: empty id")
	}
	s.inMu.Lock()
	defer s.inMu.Unlock()
	seenKey := key(prefixSeen, []byte(id))
	v, err := s.get(seenKey)
	switch {
	case err == nil:
		r, derr := decodeSeen(v)
		if derr != nil {
			return 0, false, fmt.Errorf("store: receive: key %q: %w", seenKey, derr)
		}
		return r.Seq, true, nil
	case !errors.Is(err, ErrNotFound):
		return 0, false, fmt.Errorf("store: receive %q: %w", id, err)
	}

	seq = s.lastSeq.Load() + 1
	now = nanosTime(timeNanos(now)) // what will be stored
	var seqBuf [8]byte
	binary.BigEndian.PutUint64(seqBuf[:], seq)
	at := timeKey(now)
	item := InboxItem{ID: id, From: from, Received: now, Data: data}

	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Set(seenKey, encodeSeen(seenRecord{Received: now, Seq: seq}), nil)
	_ = b.Set(key(prefixSeenAt, at[:], []byte(id)), nil, nil)
	_ = b.Set(key(prefixInbox, seqBuf[:]), encodeInbox(&item), nil)
	_ = b.Set(keyInboxSeq, seqBuf[:], nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, false, fmt.Errorf("store: receive %q: %w", id, err)
	}
	s.lastSeq.Store(seq)
	return seq, false, nil
}

// LastSeq returns the highest sequence number assigned so far (0 if none).
func (s *Store) LastSeq() uint64 { return s.lastSeq.Load() }

// InboxSince returns up to limit items with Seq > after, in Seq order;
// limit <= 0 means no limit.
func (s *Store) InboxSince(after uint64, limit int) ([]InboxItem, error) {
	opts := prefixIter(prefixInbox)
	if after == ^uint64(0) {
		return nil, nil
	}
	opts.LowerBound = seqKey(after + 1)
	it, err := s.db.NewIter(opts)
	if err != nil {
		return nil, fmt.Errorf("store: inbox since %d: %w", after, err)
	}
	var out []InboxItem
	for ok := it.First(); ok && (limit <= 0 || len(out) < limit); ok = it.Next() {
		k := it.Key()
		if len(k) != len(prefixInbox)+8 {
			_ = it.Close()
			return nil, fmt.Errorf("store: inbox: key %q: %w", k, errCorrupt)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("store: inbox: key %q: %w", k, err)
		}
		item, err := decodeInbox(binary.BigEndian.Uint64(k[len(prefixInbox):]), v)
		if err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("store: inbox: key %q: %w", k, err)
		}
		out = append(out, item)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("store: inbox since %d: %w", after, err)
	}
	return out, nil
}

// TrimInbox deletes the inbox items with Seq <= through (those the
// application has consumed) and returns how many it deleted. The seen set
// and the sequence counter are unchanged.
func (s *Store) TrimInbox(through uint64) (int, error) {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	opts := prefixIter(prefixInbox)
	if through < ^uint64(0) {
		opts.UpperBound = seqKey(through + 1)
	}
	return s.deleteKeys(opts, "trim inbox", nil)
}

// PruneSeen forgets the ids received before olderThan and returns how many
// it forgot. A forgotten id is accepted again by Receive as new.
func (s *Store) PruneSeen(olderThan time.Time) (int, error) {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	at := timeKey(olderThan)
	opts := &pebble.IterOptions{LowerBound: prefixSeenAt, UpperBound: key(prefixSeenAt, at[:])}
	return s.deleteKeys(opts, "prune seen", func(b *pebble.Batch, k []byte) error {
		if len(k) <= len(prefixSeenAt)+8 {
			return fmt.Errorf("key %q: %w", k, errCorrupt)
		}
		return b.Delete(key(prefixSeen, k[len(prefixSeenAt)+8:]), nil)
	})
}

// deleteKeys deletes every key in the iterator's range, plus whatever also
// adds for each, in synced batches of bounded size.
func (s *Store) deleteKeys(opts *pebble.IterOptions, op string, also func(*pebble.Batch, []byte) error) (int, error) {
	const batchMax = 1024
	it, err := s.db.NewIter(opts)
	if err != nil {
		return 0, fmt.Errorf("store: %s: %w", op, err)
	}
	n := 0
	b := s.db.NewBatch()
	commit := func() error {
		if b.Empty() {
			return nil
		}
		err := b.Commit(pebble.Sync)
		_ = b.Close()
		b = s.db.NewBatch()
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if err = b.Delete(k, nil); err == nil && also != nil {
			err = also(b, k)
		}
		if err != nil {
			break
		}
		n++
		if n%batchMax == 0 {
			if err = commit(); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = commit()
	}
	_ = b.Close()
	if err = errors.Join(err, it.Error(), it.Close()); err != nil {
		return 0, fmt.Errorf("store: %s: %w", op, err)
	}
	return n, nil
}
