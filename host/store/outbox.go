package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Outgoing is a sealed outbound packet kept until its destination
// acknowledges it or it expires. Times are stored with nanosecond precision
// in UTC; the zero time is kept as zero (a zero NextAttempt is due at once,
// a zero Expires never expires).
type Outgoing struct {
	ID          string
	Dest        string // node id
	Data        []byte // sealed packet
	Created     time.Time
	NextAttempt time.Time
	Expires     time.Time
	Attempts    int
}

// Enqueue stores o durably. It is idempotent by ID: if a record with o.ID
// exists, it is left unchanged and Enqueue returns nil.
func (s *Store) Enqueue(o Outgoing) error {
	if o.ID == "" {
		return errors.New("store: enqueue: empty id")
	}
	if o.Attempts < 0 {
		return fmt.Errorf("store: enqueue %q: negative attempts", o.ID)
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	id := []byte(o.ID)
	_, err := s.get(key(prefixOut, id))
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("store: enqueue %q: %w", o.ID, err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	s.putOutgoing(b, &o)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: enqueue %q: %w", o.ID, err)
	}
	s.outLen++
	return nil
}

// putOutgoing adds the record and its index entries to b.
func (s *Store) putOutgoing(b *pebble.Batch, o *Outgoing) {
	id := []byte(o.ID)
	_ = b.Set(key(prefixOut, id), encodeOutgoing(o), nil)
	next := timeKey(o.NextAttempt)
	_ = b.Set(key(prefixDue, next[:], id), nil, nil)
	if !o.Expires.IsZero() {
		exp := timeKey(o.Expires)
		_ = b.Set(key(prefixExpiry, exp[:], id), nil, nil)
	}
}

// deleteOutgoing adds the deletion of the record and its index entries to b.
func (s *Store) deleteOutgoing(b *pebble.Batch, o *Outgoing) {
	id := []byte(o.ID)
	_ = b.Delete(key(prefixOut, id), nil)
	next := timeKey(o.NextAttempt)
	_ = b.Delete(key(prefixDue, next[:], id), nil)
	if !o.Expires.IsZero() {
		exp := timeKey(o.Expires)
		_ = b.Delete(key(prefixExpiry, exp[:], id), nil)
	}
}

// loadOutgoing reads the record for id; the caller holds outMu.
func (s *Store) loadOutgoing(id string) (Outgoing, error) {
	k := key(prefixOut, []byte(id))
	v, err := s.get(k)
	if err != nil {
		return Outgoing{}, err
	}
	o, err := decodeOutgoing(v)
	if err == nil && o.ID != id {
		err = fmt.Errorf("%w: id %q under wrong key", errCorrupt, o.ID)
	}
	if err != nil {
		return Outgoing{}, fmt.Errorf("key %q: %w", k, err)
	}
	return o, nil
}

// Ack removes the record for id. found is false if there was none.
func (s *Store) Ack(id string) (found bool, err error) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	o, err := s.loadOutgoing(id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: ack: %w", err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	s.deleteOutgoing(b, &o)
	if err := b.Commit(pebble.Sync); err != nil {
		return false, fmt.Errorf("store: ack %q: %w", id, err)
	}
	s.outLen--
	return true, nil
}

// Reschedule sets the next attempt time and attempt count of the record for
// id. It returns an error wrapping ErrNotFound if there is none.
func (s *Store) Reschedule(id string, next time.Time, attempts int) error {
	if attempts < 0 {
		return fmt.Errorf("store: reschedule %q: negative attempts", id)
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	o, err := s.loadOutgoing(id)
	if err != nil {
		return fmt.Errorf("store: reschedule %q: %w", id, err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	old := timeKey(o.NextAttempt)
	_ = b.Delete(key(prefixDue, old[:], []byte(id)), nil)
	o.NextAttempt, o.Attempts = next, attempts
	s.putOutgoing(b, &o)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: reschedule %q: %w", id, err)
	}
	return nil
}

// Due returns up to limit records whose NextAttempt is at or before now,
// earliest NextAttempt first (ties by ID); limit <= 0 means no limit. It
// reads the due index only as far as now. Expired records are returned too;
// call DropExpired first to exclude them.
func (s *Store) Due(now time.Time, limit int) ([]Outgoing, error) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	nowKey := timeKey(now)
	upper := key(prefixDue, nowKey[:])
	upper = incrementKey(upper)
	var out []Outgoing
	err := s.scanIndex(prefixDue, upper, limit, func(o Outgoing) { out = append(out, o) })
	if err != nil {
		return nil, fmt.Errorf("store: due: %w", err)
	}
	return out, nil
}

// DropExpired removes every record whose Expires is set and at or before
// now, and returns them.
func (s *Store) DropExpired(now time.Time) ([]Outgoing, error) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	nowKey := timeKey(now)
	upper := incrementKey(key(prefixExpiry, nowKey[:]))
	var dropped []Outgoing
	err := s.scanIndex(prefixExpiry, upper, 0, func(o Outgoing) { dropped = append(dropped, o) })
	if err != nil {
		return nil, fmt.Errorf("store: drop expired: %w", err)
	}
	if len(dropped) == 0 {
		return nil, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for i := range dropped {
		s.deleteOutgoing(b, &dropped[i])
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, fmt.Errorf("store: drop expired: %w", err)
	}
	s.outLen -= len(dropped)
	return dropped, nil
}

// scanIndex walks an index of <prefix><t8><id> keys below upper and loads
// the record of each; the caller holds outMu.
func (s *Store) scanIndex(prefix, upper []byte, limit int, fn func(Outgoing)) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return err
	}
	n := 0
	for ok := it.First(); ok && (limit <= 0 || n < limit); ok = it.Next() {
		k := it.Key()
		if len(k) <= len(prefix)+8 {
			_ = it.Close()
			return fmt.Errorf("index key %q: %w", k, errCorrupt)
		}
		id := string(k[len(prefix)+8:])
		o, err := s.loadOutgoing(id)
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("index key %q: %w: no record for %q", k, errCorrupt, id)
		}
		if err != nil {
			_ = it.Close()
			return err
		}
		fn(o)
		n++
	}
	return errors.Join(it.Error(), it.Close())
}

// OutboxLen returns the number of records in the outbox.
func (s *Store) OutboxLen() (int, error) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return s.outLen, nil
}

// incrementKey returns the smallest key greater than every key that has k as
// a prefix: an exclusive upper bound for "<prefix><t8>..." at t8 and below.
func incrementKey(k []byte) []byte {
	out := append([]byte(nil), k...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] != 0xff {
			out[i]++
			return out[:i+1]
		}
	}
	return nil // k was all 0xff: no upper bound
}
