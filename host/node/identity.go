package node

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// ID is a node id: the lowercase, unpadded base32 form of the node's Ed25519
// public key (52 characters).
type ID string

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// IDFromKey derives the node id of an Ed25519 public key.
func IDFromKey(pub ed25519.PublicKey) ID {
	return ID(strings.ToLower(b32.EncodeToString(pub)))
}

// ParseID checks that s is a well-formed node id and returns its key.
func ParseID(s string) (ID, ed25519.PublicKey, error) {
	raw, err := b32.DecodeString(strings.ToUpper(s))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return "", nil, fmt.Errorf("node: malformed node id %.60q: want 52 base32 characters", s)
	}
	return ID(strings.ToLower(s)), ed25519.PublicKey(raw), nil
}

// Short is the id's first 12 characters, for logs.
func (id ID) Short() string {
	if len(id) > 12 {
		return string(id[:12])
	}
	return string(id)
}

// Identity holds a node's private keys.
type Identity struct {
	sign ed25519.PrivateKey
	box  *ecdh.PrivateKey
	id   ID
}

// NewIdentity creates fresh keys.
func NewIdentity() (*Identity, error) {
	_, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node: generate ed25519: %w", err)
	}
	bk, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node: generate x25519: %w", err)
	}
	return newIdentity(sk, bk), nil
}

func newIdentity(sk ed25519.PrivateKey, bk *ecdh.PrivateKey) *Identity {
	return &Identity{sign: sk, box: bk, id: IDFromKey(sk.Public().(ed25519.PublicKey))}
}

// ID returns the node id.
func (k *Identity) ID() ID { return k.id }

// SigningKey returns the Ed25519 public key.
func (k *Identity) SigningKey() ed25519.PublicKey { return k.sign.Public().(ed25519.PublicKey) }

// BoxKey returns the static X25519 private key used to open sealed packets.
func (k *Identity) BoxKey() *ecdh.PrivateKey { return k.box }

// Sign signs msg with the node's Ed25519 key.
func (k *Identity) Sign(msg []byte) []byte { return ed25519.Sign(k.sign, msg) }

// Fingerprint is a short hash of the public keys, for humans comparing out of band.
func (k *Identity) Fingerprint() string {
	h := sha256.New()
	h.Write(k.SigningKey())
	h.Write(k.box.PublicKey().Bytes())
	return fmt.Sprintf("%x", h.Sum(nil)[:8])
}

// marshalSecret is the plaintext secret form: ed25519 seed || x25519 scalar.
func (k *Identity) marshalSecret() []byte {
	out := make([]byte, 0, 64)
	out = append(out, k.sign.Seed()...)
	return append(out, k.box.Bytes()...)
}

func unmarshalSecret(b []byte) (*Identity, error) {
	if len(b) != 64 {
		return nil, errors.New("node: key material has wrong length")
	}
	sk := ed25519.NewKeyFromSeed(b[:32])
	bk, err := ecdh.X25519().NewPrivateKey(b[32:])
	if err != nil {
		return nil, fmt.Errorf("node: x25519 key: %w", err)
	}
	return newIdentity(sk, bk), nil
}
