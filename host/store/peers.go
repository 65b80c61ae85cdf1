package store

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// PutPeer stores the record of peer id, replacing any previous one. The
// record is the caller's bytes, stored as given.
func (s *Store) PutPeer(id string, record []byte) error {
	if id == "" {
		return errors.New("store: put peer: empty id")
	}
	if err := s.putSync(key(prefixPeer, []byte(id)), record); err != nil {
		return fmt.Errorf("store: put peer %q: %w", id, err)
	}
	return nil
}

// Peer returns the record of peer id, or an error wrapping ErrNotFound.
func (s *Store) Peer(id string) ([]byte, error) {
	v, err := s.get(key(prefixPeer, []byte(id)))
	if err != nil {
		return nil, fmt.Errorf("store: peer %q: %w", id, err)
	}
	return v, nil
}

// DeletePeer removes the record of peer id; removing a missing peer is not
// an error.
func (s *Store) DeletePeer(id string) error {
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(key(prefixPeer, []byte(id)), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("store: delete peer %q: %w", id, err)
	}
	return nil
}

// Peers returns every peer record by id.
func (s *Store) Peers() (map[string][]byte, error) {
	it, err := s.db.NewIter(prefixIter(prefixPeer))
	if err != nil {
		return nil, fmt.Errorf("store: peers: %w", err)
	}
	out := make(map[string][]byte)
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("store: peers: key %q: %w", it.Key(), err)
		}
		out[string(it.Key()[len(prefixPeer):])] = append([]byte{}, v...)
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("store: peers: %w", err)
	}
	return out, nil
}

// Get returns the meta value under key, or an error wrapping ErrNotFound.
func (s *Store) Get(key string) ([]byte, error) {
	v, err := s.get(metaKey(key))
	if err != nil {
		return nil, fmt.Errorf("store: meta %q: %w", key, err)
	}
	return v, nil
}

// Put stores a small meta value (host state such as node key material)
// durably under key.
func (s *Store) Put(key string, val []byte) error {
	if key == "" {
		return errors.New("store: put meta: empty key")
	}
	if err := s.putSync(metaKey(key), val); err != nil {
		return fmt.Errorf("store: put meta %q: %w", key, err)
	}
	return nil
}

func metaKey(k string) []byte { return key(prefixMeta, []byte(k)) }

// Delete removes the meta value under key; a missing key is not an error.
func (s *Store) Delete(key string) error {
	if err := s.db.Delete(metaKey(key), pebble.Sync); err != nil {
		return fmt.Errorf("store: delete meta %q: %w", key, err)
	}
	return nil
}
