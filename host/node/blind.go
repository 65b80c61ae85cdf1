package node

import (
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
)

// Key blinding. A node's Ed25519 key A = a·B is multiplied by a factor h
// derived from A and a label (for lease sets, the time period): A' = h·A,
// with private scalar a' = h·a. Anyone who knows A and the label can
// compute A'; someone who sees only A' cannot tell whose key it is, nor
// link the A' of two labels. Signatures by a' are ordinary Ed25519
// signatures under A' (crypto/ed25519.Verify checks them). Tor v3 onion
// services blind their descriptor keys in the same way.

// blindDomain separates the blinding factor from every other hash of a
// key.
const blindDomain = "onemfive blind v1"

// BlindedKey is a private key blinded for one label.
type BlindedKey struct {
	pub    ed25519.PublicKey
	s      *edwards25519.Scalar
	prefix [32]byte // nonce prefix, derived from the key's and the factor
}

// blindFactor returns h for pub and label.
func blindFactor(pub ed25519.PublicKey, label []byte) (*edwards25519.Scalar, error) {
	hs := sha512.New()
	hs.Write([]byte(blindDomain))
	hs.Write(pub)
	hs.Write(label)
	h, err := edwards25519.NewScalar().SetUniformBytes(hs.Sum(nil))
	if err != nil {
		return nil, err
	}
	if h.Equal(edwards25519.NewScalar()) == 1 {
		return nil, errors.New("node: blind: zero factor")
	}
	return h, nil
}

// BlindPublic returns the public key pub blinded for label.
func BlindPublic(pub ed25519.PublicKey, label []byte) (ed25519.PublicKey, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("node: blind: public key of %d bytes", len(pub))
	}
	A, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, fmt.Errorf("node: blind: %w", err)
	}
	h, err := blindFactor(pub, label)
	if err != nil {
		return nil, err
	}
	return new(edwards25519.Point).ScalarMult(h, A).Bytes(), nil
}

// Blind returns the node's signing key blinded for label.
func (k *Identity) Blind(label []byte) (*BlindedKey, error) {
	pub := k.SigningKey()
	h, err := blindFactor(pub, label)
	if err != nil {
		return nil, err
	}
	// The Ed25519 private scalar and nonce prefix, as RFC 8032 derives
	// them from the seed.
	d := sha512.Sum512(k.sign.Seed())
	a, err := edwards25519.NewScalar().SetBytesWithClamping(d[:32])
	if err != nil {
		return nil, fmt.Errorf("node: blind: %w", err)
	}
	s := edwards25519.NewScalar().Multiply(h, a)
	bk := &BlindedKey{s: s, pub: new(edwards25519.Point).ScalarBaseMult(s).Bytes()}
	p := sha512.New()
	p.Write([]byte(blindDomain + " prefix"))
	p.Write(d[32:])
	p.Write(h.Bytes())
	copy(bk.prefix[:], p.Sum(nil))
	return bk, nil
}

// Public is the blinded public key.
func (b *BlindedKey) Public() ed25519.PublicKey { return b.pub }

// Sign signs msg; ed25519.Verify(b.Public(), msg, sig) accepts it.
func (b *BlindedKey) Sign(msg []byte) []byte {
	rh := sha512.New()
	rh.Write(b.prefix[:])
	rh.Write(msg)
	r, _ := edwards25519.NewScalar().SetUniformBytes(rh.Sum(nil))
	R := new(edwards25519.Point).ScalarBaseMult(r).Bytes()
	kh := sha512.New()
	kh.Write(R)
	kh.Write(b.pub)
	kh.Write(msg)
	k, _ := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	S := edwards25519.NewScalar().MultiplyAdd(k, b.s, r)
	return append(R, S.Bytes()...)
}
