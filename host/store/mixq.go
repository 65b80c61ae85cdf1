package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Mixing queue key layout (an addition to the table in doc.go):
//
//	h/<t8 due><id32>  held packet: the caller's bytes as given
//
// The key orders held packets by due time, so the earliest is the first key
// under the prefix and Due is one bounded iteration.
var prefixHeld = []byte("h/")

// HeldIDSize is the size of a held packet's id (the relay uses the packet's
// replay tag, unique among packets it accepted).
const HeldIDSize = 32

const heldKeyLen = 2 + 8 + HeldIDSize

// Held is one packet in the mixing queue.
type Held struct {
	// Due is when the packet is to leave the queue.
	Due time.Time
	// ID names the packet; Due and ID together are its key.
	ID [HeldIDSize]byte
	// Value is the caller's record, stored as given.
	Value []byte
}

// MixQueue is a relay's durable mixing queue: packets held until their due
// time. Hold returns only after a synced commit, so a held packet survives
// kill -9 and a restart; Release removes it once it has left. It is safe
// for concurrent use.
type MixQueue struct {
	s *Store
}

// NewMixQueue returns the mixing queue kept in s.
func NewMixQueue(s *Store) *MixQueue { return &MixQueue{s: s} }

func heldKey(due time.Time, id *[HeldIDSize]byte) []byte {
	t := timeKey(due)
	return key(prefixHeld, t[:], id[:])
}

// Hold stores h durably. Holding the same Due and ID again replaces the
// value.
func (q *MixQueue) Hold(h Held) error {
	if err := q.s.putSync(heldKey(h.Due, &h.ID), h.Value); err != nil {
		return fmt.Errorf("store: mixq: hold: %w", err)
	}
	return nil
}

// Release removes h (matched by Due and ID) durably. Releasing a packet
// that is not held is not an error.
func (q *MixQueue) Release(h Held) error {
	b := q.s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(heldKey(h.Due, &h.ID), nil); err != nil {
		return fmt.Errorf("store: mixq: release: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: mixq: release: %w", err)
	}
	return nil
}

// Due returns up to limit held packets whose Due is at or before now,
// earliest first (ties by ID). limit <= 0 means no limit. They stay held
// until Released.
func (q *MixQueue) Due(now time.Time, limit int) ([]Held, error) {
	t := timeKey(now)
	// Upper bound: every key with a due time <= now, i.e. < now+1ns.
	upper := key(prefixHeld, t[:], bytesFF(HeldIDSize))
	var out []Held
	err := q.scan(upper, func(h Held) bool {
		out = append(out, h)
		return limit <= 0 || len(out) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("store: mixq: due: %w", err)
	}
	return out, nil
}

// Earliest returns the due time of the first held packet; ok is false when
// nothing is held.
func (q *MixQueue) Earliest() (due time.Time, ok bool, err error) {
	err = q.scan(nil, func(h Held) bool {
		due, ok = h.Due, true
		return false
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: mixq: earliest: %w", err)
	}
	return due, ok, nil
}

// Len counts the held packets.
func (q *MixQueue) Len() (int, error) {
	n, err := q.s.count(prefixHeld)
	if err != nil {
		return 0, fmt.Errorf("store: mixq: len: %w", err)
	}
	return n, nil
}

// scan walks held packets in key order, up to and including upper when it
// is not nil, until fn returns false.
func (q *MixQueue) scan(upper []byte, fn func(Held) bool) error {
	opts := prefixIter(prefixHeld)
	if upper != nil {
		// UpperBound is exclusive; upper is the largest key wanted, so
		// extend it by one byte to include it.
		opts.UpperBound = append(upper, 0)
	}
	it, err := q.s.db.NewIter(opts)
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != heldKeyLen {
			_ = it.Close()
			return fmt.Errorf("%w: key %q", errCorrupt, k)
		}
		h := Held{Due: nanosTime(int64(binary.BigEndian.Uint64(k[2:10]) ^ (1 << 63)))}
		copy(h.ID[:], k[10:])
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		h.Value = append([]byte{}, v...)
		if !fn(h) {
			break
		}
	}
	return errors.Join(it.Error(), it.Close())
}

func bytesFF(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xff
	}
	return b
}
