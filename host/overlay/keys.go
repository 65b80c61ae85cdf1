package overlay

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/onemfive/onemfive/host/mixkey"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/store"
)

// Mix keys are kept in the store's meta space under "mixkey/<epoch>",
// sealed with XChaCha20-Poly1305 under a key derived from the node's
// identity (its X25519 private key, through HKDF-SHA256): they are as well
// protected at rest as the node key file, and useless to anyone without it.
const (
	mixKeyPrefix = "mixkey/"
	atRestLabel  = "onemfive/overlay/v1/mixkey-at-rest"
)

// MetaStore is the part of host/store the key store needs.
type MetaStore interface {
	Get(key string) ([]byte, error)
	Put(key string, val []byte) error
	Delete(key string) error
}

// keyStore persists a node's mix keys, sealed.
type keyStore struct {
	meta MetaStore
	box  atRest
}

func newKeyStore(meta MetaStore, id *node.Identity, rand io.Reader) *keyStore {
	return &keyStore{meta: meta, box: atRest{id: id, label: atRestLabel, rand: rand}}
}

func epochKey(e uint64) string { return mixKeyPrefix + fmt.Sprintf("%020d", e) }

// save stores k sealed.
func (s *keyStore) save(k mixkey.Key) error {
	plain, err := k.MarshalBinary()
	if err != nil {
		return err
	}
	name := epochKey(k.Epoch)
	sealed, err := s.box.seal(plain, []byte(name))
	if err != nil {
		return fmt.Errorf("overlay: mix key %d: %w", k.Epoch, err)
	}
	if err := s.meta.Put(name, sealed); err != nil {
		return fmt.Errorf("overlay: save mix key %d: %w", k.Epoch, err)
	}
	return nil
}

// load returns the stored key of epoch e.
func (s *keyStore) load(e uint64) (mixkey.Key, error) {
	name := epochKey(e)
	sealed, err := s.meta.Get(name)
	if err != nil {
		return mixkey.Key{}, err
	}
	plain, err := s.box.open(sealed, []byte(name))
	if err != nil {
		return mixkey.Key{}, fmt.Errorf("overlay: stored mix key %d does not open with this node's key: %w", e, err)
	}
	k, err := mixkey.ParseKey(plain)
	if err != nil {
		return mixkey.Key{}, fmt.Errorf("overlay: stored mix key %d: %w", e, err)
	}
	if k.Epoch != e {
		return mixkey.Key{}, fmt.Errorf("overlay: stored mix key under epoch %d is for epoch %d", e, k.Epoch)
	}
	return k, nil
}

// loadAccepted puts into ring every stored key accepted at now or about to
// be (the current and next epochs and the grace neighbours).
func (s *keyStore) loadAccepted(ring *mixkey.Ring, sched mixkey.Schedule, now time.Time) error {
	cur := sched.Epoch(now)
	epochs := []uint64{cur, cur + 1}
	if cur > 0 {
		epochs = append(epochs, cur-1)
	}
	for _, e := range epochs {
		k, err := s.load(e)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		ring.Add(k)
	}
	return nil
}

// remove deletes the stored key of epoch e (after the ring pruned it).
func (s *keyStore) remove(e uint64) error {
	if err := s.meta.Delete(epochKey(e)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("overlay: delete mix key %d: %w", e, err)
	}
	return nil
}
