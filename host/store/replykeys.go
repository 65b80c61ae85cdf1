package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Reply-key key layout (an addition to the table in doc.go):
//
//	k/<id>           t8 expires || the caller's (sealed) value
//	y/<t8 exp><id>   expiry index (empty value)
//
// ids are at most 64 bytes and all of one length per caller (the overlay
// uses 16-byte reply-block ids).
var (
	prefixReplyKey = []byte("k/")
	prefixReplyExp = []byte("y/")
)

// maxReplyKeyID bounds an id's length.
const maxReplyKeyID = 64

// ReplyKeys keeps the keys that open replies arriving on this node's
// reply blocks, so that a reply that arrives after a restart still opens.
// Unlike the rest of the store its writes are not synced: a crash may lose
// the last keys written (those replies are then lost, and the courier
// retransmits), which keeps an fsync off every message sent. Values are
// the caller's bytes; the overlay seals them before they get here.
// It is safe for concurrent use.
type ReplyKeys struct{ s *Store }

// NewReplyKeys returns the reply-key space of s.
func NewReplyKeys(s *Store) *ReplyKeys { return &ReplyKeys{s: s} }

func checkReplyID(id []byte) error {
	if len(id) == 0 || len(id) > maxReplyKeyID {
		return fmt.Errorf("store: reply key: id of %d bytes, want 1 to %d", len(id), maxReplyKeyID)
	}
	return nil
}

// Put keeps val under id until expires.
func (r *ReplyKeys) Put(id []byte, expires time.Time, val []byte) error {
	if err := checkReplyID(id); err != nil {
		return err
	}
	t := timeKey(expires)
	b := r.s.db.NewBatch()
	defer b.Close()
	rec := append(t[:], val...)
	if err := b.Set(key(prefixReplyKey, id), rec, nil); err != nil {
		return fmt.Errorf("store: reply key: %w", err)
	}
	if err := b.Set(key(prefixReplyExp, t[:], id), nil, nil); err != nil {
		return fmt.Errorf("store: reply key: %w", err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("store: reply key: %w", err)
	}
	return nil
}

// Take returns and removes the value under id, or an error wrapping
// ErrNotFound (never kept, already taken, or expired at now).
func (r *ReplyKeys) Take(id []byte, now time.Time) ([]byte, error) {
	if err := checkReplyID(id); err != nil {
		return nil, err
	}
	k := key(prefixReplyKey, id)
	rec, err := r.s.get(k)
	if err != nil {
		return nil, fmt.Errorf("store: reply key %x: %w", id, err)
	}
	if len(rec) < 8 {
		return nil, fmt.Errorf("store: reply key %x: record of %d bytes", id, len(rec))
	}
	b := r.s.db.NewBatch()
	defer b.Close()
	if err := errors.Join(b.Delete(k, nil), b.Delete(key(prefixReplyExp, rec[:8], id), nil)); err != nil {
		return nil, fmt.Errorf("store: reply key %x: %w", id, err)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return nil, fmt.Errorf("store: reply key %x: %w", id, err)
	}
	if t := timeKey(now); string(rec[:8]) <= string(t[:]) {
		return nil, fmt.Errorf("store: reply key %x: expired: %w", id, ErrNotFound)
	}
	return rec[8:], nil
}

// Prune removes every key that expired at or before now and returns how
// many.
func (r *ReplyKeys) Prune(now time.Time) (int, error) {
	t := timeKey(now)
	upper := binary.BigEndian.AppendUint64(append([]byte{}, prefixReplyExp...), binary.BigEndian.Uint64(t[:])+1)
	return r.s.deleteKeys(&pebble.IterOptions{LowerBound: prefixReplyExp, UpperBound: upper}, "reply key prune",
		func(b *pebble.Batch, k []byte) error {
			return b.Delete(key(prefixReplyKey, k[len(prefixReplyExp)+8:]), nil)
		})
}

// Len counts the keys held.
func (r *ReplyKeys) Len() (int, error) { return r.s.count(prefixReplyKey) }
