package mixkey

import (
	"crypto/ecdh"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Key is one epoch's mix key pair.
type Key struct {
	Epoch   uint64
	Private *ecdh.PrivateKey
}

// Public returns the public half, the one published in a record.
func (k Key) Public() *ecdh.PublicKey { return k.Private.PublicKey() }

// Generate makes a fresh key for epoch from rand.
func Generate(rand io.Reader, epoch uint64) (Key, error) {
	var seed [32]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return Key{}, fmt.Errorf("mixkey: generate: %w", err)
	}
	priv, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		return Key{}, fmt.Errorf("mixkey: generate: %w", err)
	}
	return Key{Epoch: epoch, Private: priv}, nil
}

// Secret key encoding, for the host to persist a ring across restarts:
// version (1) | epoch (8, BE) | X25519 scalar (32). The bytes are secret.
const (
	keyVersion = 1
	// KeySize is the size of an encoded secret key.
	KeySize = 1 + 8 + 32
)

// MarshalBinary encodes the secret key (see KeySize).
func (k Key) MarshalBinary() ([]byte, error) {
	if k.Private == nil {
		return nil, fmt.Errorf("mixkey: marshal: no private key")
	}
	b := make([]byte, 0, KeySize)
	b = append(b, keyVersion)
	b = binary.BigEndian.AppendUint64(b, k.Epoch)
	return append(b, k.Private.Bytes()...), nil
}

// ParseKey decodes a key encoded by Key.MarshalBinary.
func ParseKey(b []byte) (Key, error) {
	if len(b) != KeySize || b[0] != keyVersion {
		return Key{}, fmt.Errorf("mixkey: parse key: bad encoding (%d bytes)", len(b))
	}
	priv, err := ecdh.X25519().NewPrivateKey(b[9:])
	if err != nil {
		return Key{}, fmt.Errorf("mixkey: parse key: %w", err)
	}
	return Key{Epoch: binary.BigEndian.Uint64(b[1:9]), Private: priv}, nil
}

// Ring holds a node's mix keys by epoch. The zero value is empty and ready;
// it is safe for concurrent use.
type Ring struct {
	mu   sync.RWMutex
	keys map[uint64]*ecdh.PrivateKey
}

// Add stores k, replacing any key already held for its epoch.
func (r *Ring) Add(k Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = make(map[uint64]*ecdh.PrivateKey)
	}
	r.keys[k.Epoch] = k.Private
}

// Get returns the key of epoch e, or an error wrapping ErrNoKey.
func (r *Ring) Get(e uint64) (Key, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.keys[e]
	if !ok {
		return Key{}, fmt.Errorf("%w %d", ErrNoKey, e)
	}
	return Key{Epoch: e, Private: p}, nil
}

// Epochs lists the epochs held, ascending.
func (r *Ring) Epochs() []uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]uint64, 0, len(r.keys))
	for e := range r.keys {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

// Accepted returns the held keys accepted at now under s, oldest first: the
// keys a relay tries a packet with.
func (r *Ring) Accepted(s Schedule, now time.Time) []Key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Key
	for _, e := range s.AcceptedEpochs(now) {
		if p, ok := r.keys[e]; ok {
			out = append(out, Key{Epoch: e, Private: p})
		}
	}
	return out
}

// Ensure generates the keys missing for the current and the next epoch at
// now, so the next key can be published before its grace window opens. It
// returns the keys it created (for the caller to persist and publish).
func (r *Ring) Ensure(rand io.Reader, s Schedule, now time.Time) ([]Key, error) {
	cur := s.Epoch(now)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = make(map[uint64]*ecdh.PrivateKey)
	}
	var made []Key
	for _, e := range []uint64{cur, cur + 1} {
		if _, ok := r.keys[e]; ok {
			continue
		}
		k, err := Generate(rand, e)
		if err != nil {
			return made, err
		}
		r.keys[e] = k.Private
		made = append(made, k)
	}
	return made, nil
}

// Prune forgets keys no longer accepted at now (their epoch's grace window
// has closed) and returns their epochs, ascending. After this the traffic
// they protected cannot be opened by this node again.
func (r *Ring) Prune(s Schedule, now time.Time) []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gone []uint64
	for e := range r.keys {
		if !now.Before(s.ValidUntil(e)) {
			delete(r.keys, e)
			gone = append(gone, e)
		}
	}
	slices.Sort(gone)
	return gone
}
