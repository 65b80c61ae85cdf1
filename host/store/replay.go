package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Replay cache key layout (an addition to the table in doc.go):
//
//	e/<epoch8><tag32>  replay tag seen under the mix key of epoch (empty value)
//
// epoch8 is the 8-byte big-endian mix-key epoch, so pruning old epochs is one
// range deletion.
var prefixReplay = []byte("e/")

// ReplayTagSize is the size of a replay tag (onion.ReplayTagSize).
const ReplayTagSize = 32

// ReplayCache is the relay's persistent replay cache: the onion replay tags
// it has processed, per mix-key epoch. A tag is written with a synced commit
// before SeenTag reports it new, so a packet replayed after a crash or
// restart is still refused.
//
// Create one ReplayCache per Store with NewReplayCache and share it: the
// check-and-insert is atomic only among callers of the same ReplayCache.
// It is safe for concurrent use; concurrent callers' commits share fsyncs
// through Pebble's commit pipeline.
type ReplayCache struct {
	s *Store

	mu sync.Mutex
	// inflight holds tags whose insert is being committed, so a second copy
	// arriving during the fsync is refused too.
	inflight map[string]struct{}
}

// NewReplayCache returns the replay cache kept in s.
func NewReplayCache(s *Store) *ReplayCache {
	return &ReplayCache{s: s, inflight: make(map[string]struct{})}
}

func replayKey(epoch uint64, tag *[ReplayTagSize]byte) []byte {
	k := make([]byte, 0, len(prefixReplay)+8+ReplayTagSize)
	k = append(k, prefixReplay...)
	k = binary.BigEndian.AppendUint64(k, epoch)
	return append(k, tag[:]...)
}

// SeenTag atomically checks whether tag was seen under epoch and records it.
// It returns true for a tag already recorded (or being recorded by a
// concurrent call): drop the packet. It returns false only after the tag is
// durably stored. On error the tag may or may not be stored; the caller
// drops the packet (fail closed), since a concurrent copy may already have
// been refused as a replay.
func (c *ReplayCache) SeenTag(epoch uint64, tag [ReplayTagSize]byte) (bool, error) {
	k := replayKey(epoch, &tag)
	c.mu.Lock()
	if _, ok := c.inflight[string(k)]; ok {
		c.mu.Unlock()
		return true, nil
	}
	_, closer, err := c.s.db.Get(k)
	switch {
	case err == nil:
		_ = closer.Close()
		c.mu.Unlock()
		return true, nil
	case !errors.Is(err, pebble.ErrNotFound):
		c.mu.Unlock()
		return false, fmt.Errorf("store: replay: epoch %d: %w", epoch, err)
	}
	c.inflight[string(k)] = struct{}{}
	c.mu.Unlock()

	err = c.s.putSync(k, nil)

	c.mu.Lock()
	delete(c.inflight, string(k))
	c.mu.Unlock()
	if err != nil {
		return false, fmt.Errorf("store: replay: epoch %d: record tag: %w", epoch, err)
	}
	return false, nil
}

// PruneEpochsBefore forgets the tags of every epoch before epoch and returns
// how many it removed. Call it once the mix keys of those epochs are gone:
// a packet for a deleted key cannot be opened, so its tag is no longer
// needed.
func (c *ReplayCache) PruneEpochsBefore(epoch uint64) (int, error) {
	lower := replayKey(0, &[ReplayTagSize]byte{})
	upper := binary.BigEndian.AppendUint64(append([]byte{}, prefixReplay...), epoch)
	it, err := c.s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, fmt.Errorf("store: replay: prune: %w", err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return 0, fmt.Errorf("store: replay: prune: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	b := c.s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(lower, upper, nil); err != nil {
		return 0, fmt.Errorf("store: replay: prune: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("store: replay: prune: %w", err)
	}
	return n, nil
}

// ReplayTags counts the tags held for epoch.
func (c *ReplayCache) ReplayTags(epoch uint64) (int, error) {
	lower := binary.BigEndian.AppendUint64(append([]byte{}, prefixReplay...), epoch)
	it, err := c.s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: replayUpper(epoch)})
	if err != nil {
		return 0, fmt.Errorf("store: replay: count: %w", err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return 0, fmt.Errorf("store: replay: count: %w", err)
	}
	return n, nil
}

// replayUpper is the exclusive upper bound of epoch's keys.
func replayUpper(epoch uint64) []byte {
	if epoch == ^uint64(0) {
		return []byte("e0") // '/'+1: past every e/ key
	}
	return binary.BigEndian.AppendUint64(append([]byte{}, prefixReplay...), epoch+1)
}
