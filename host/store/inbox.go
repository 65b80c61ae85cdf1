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
// seq first assigned, and changes nothing. Otherwise it adds id to the seen
// set and appends the item to the inbox log under the next sequence number,
// which it returns, in a synced batch.
//
// Concurrent calls are group-committed: receipts that arrive while a commit
// is in flight share the next batch (one fsync), and batches commit in
// sequence order, so the log stays contiguous after any crash. A call that
// returns nil has been synced; a duplicate of a receipt still in flight
// waits for it.
func (s *Store) Receive(id, from string, data []byte, now time.Time) (seq uint64, dup bool, err error) {
	if id == "" {
		return 0, false, errors.New("store: receive: empty id")
	}
	s.inMu.Lock()
	if p, ok := s.pending[id]; ok {
		s.inMu.Unlock()
		<-p.g.done
		if p.g.err != nil {
			return 0, false, fmt.Errorf("store: receive %q: %w", id, p.g.err)
		}
		return p.seq, true, nil
	}
	seenKey := key(prefixSeen, []byte(id))
	v, err := s.get(seenKey)
	switch {
	case err == nil:
		s.inMu.Unlock()
		r, derr := decodeSeen(v)
		if derr != nil {
			return 0, false, fmt.Errorf("store: receive: key %q: %w", seenKey, derr)
		}
		return r.Seq, true, nil
	case !errors.Is(err, ErrNotFound):
		s.inMu.Unlock()
		return 0, false, fmt.Errorf("store: receive %q: %w", id, err)
	}

	s.nextSeq++
	seq = s.nextSeq
	now = nanosTime(timeNanos(now)) // what will be stored
	var seqBuf [8]byte
	binary.BigEndian.PutUint64(seqBuf[:], seq)
	at := timeKey(now)
	item := InboxItem{ID: id, From: from, Received: now, Data: data}
	if s.cur == nil {
		s.cur = &recvGroup{b: s.db.NewBatch(), done: make(chan struct{}), wake: make(chan struct{})}
	}
	g := s.cur
	_ = g.b.Set(seenKey, encodeSeen(seenRecord{Received: now, Seq: seq}), nil)
	_ = g.b.Set(key(prefixSeenAt, at[:], []byte(id)), nil, nil)
	_ = g.b.Set(key(prefixInbox, seqBuf[:]), encodeInbox(&item), nil)
	_ = g.b.Set(keyInboxSeq, seqBuf[:], nil)
	g.ids = append(g.ids, id)
	g.last = seq
	s.pending[id] = pendingRecv{seq: seq, g: g}

	woken := false
	for {
		if !s.committing && s.cur == g {
			s.commitNext()
			s.inMu.Unlock()
			break
		}
		s.inMu.Unlock()
		if woken {
			<-g.done
			break
		}
		select {
		case <-g.done:
		case <-g.wake:
			woken = true
			s.inMu.Lock()
			continue
		}
		break
	}
	if g.err != nil {
		return 0, false, fmt.Errorf("store: receive %q: %w", id, g.err)
	}
	return seq, false, nil
}

// recvGroup is a batch of receipts committed together.
type recvGroup struct {
	b    *pebble.Batch
	ids  []string
	last uint64        // highest seq in the group
	done chan struct{} // closed once committed or failed; err is then set
	err  error
	wake chan struct{} // closed when the group may elect a leader among its waiters
}

type pendingRecv struct {
	seq uint64
	g   *recvGroup
}

// commitNext commits the accumulating group. It is called with inMu held
// and no commit in flight, releases inMu during the fsync, and returns with
// inMu held. Receipts arriving meanwhile gather in a new group, whose
// waiters are woken to elect the next committer.
func (s *Store) commitNext() {
	g := s.cur
	s.cur = nil
	s.committing = true
	s.inMu.Unlock()
	err := g.b.Commit(pebble.Sync)
	_ = g.b.Close()
	s.inMu.Lock()
	s.committing = false
	failed := []*recvGroup{g}
	if err == nil {
		s.lastSeq.Store(g.last)
		failed = nil
	} else {
		// Later receipts were numbered after this group's; fail them too so
		// that no sequence number is skipped.
		s.nextSeq = s.lastSeq.Load()
		if s.cur != nil {
			failed = append(failed, s.cur)
			_ = s.cur.b.Close()
			s.cur = nil
		}
		for _, f := range failed {
			f.err = err
		}
	}
	for _, id := range g.ids {
		delete(s.pending, id)
	}
	close(g.done)
	for _, f := range failed[min(1, len(failed)):] {
		for _, id := range f.ids {
			delete(s.pending, id)
		}
		close(f.done)
	}
	if s.cur != nil {
		close(s.cur.wake)
	}
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
