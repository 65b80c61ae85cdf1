package overlay

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/onemfive/onemfive/host/node"
)

// atRest seals what this node stores for one purpose (mix keys, reply-block
// keys) with XChaCha20-Poly1305 under a key derived from the node's box key
// and that purpose's label; the stored name is the additional data, so a
// value cannot be moved to another name. Sealed: nonce | ciphertext.
type atRest struct {
	id    *node.Identity
	label string
	rand  io.Reader
}

func (a atRest) aead() (aeadSealer, error) {
	k, err := hkdf.Key(sha256.New, a.id.BoxKey().Bytes(), nil, a.label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.NewX(k)
}

type aeadSealer interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
	NonceSize() int
	Overhead() int
}

// seal returns plain sealed for storage under name.
func (a atRest) seal(plain, name []byte) ([]byte, error) {
	c, err := a.aead()
	if err != nil {
		return nil, fmt.Errorf("at-rest key: %w", err)
	}
	nonce := make([]byte, c.NonceSize(), c.NonceSize()+len(plain)+c.Overhead())
	if _, err := io.ReadFull(a.rand, nonce); err != nil {
		return nil, fmt.Errorf("at-rest nonce: %w", err)
	}
	return c.Seal(nonce, nonce, plain, name), nil
}

// open reverses seal; an error means the value was not sealed by this node
// under name (or is damaged).
func (a atRest) open(sealed, name []byte) ([]byte, error) {
	c, err := a.aead()
	if err != nil {
		return nil, fmt.Errorf("at-rest key: %w", err)
	}
	if len(sealed) < c.NonceSize() {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(sealed))
	}
	return c.Open(nil, sealed[:c.NonceSize()], sealed[c.NonceSize():], name)
}
