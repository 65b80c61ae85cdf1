package lease

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/onemfive/onemfive/host/node"
)

// Storage under blinded keys. A storer must not learn whose lease set it
// keeps, or be able to read the gateways in it; yet a sender who knows the
// owner's node id must find and check it. So an owner stores, per time
// period, an envelope under its key blinded for that period
// (node.BlindPublic): the envelope is signed with the blinded private key,
// which the storer can check without knowing the owner, and the lease
// message inside is encrypted under a key derived from the owner's public
// key and the blinded key, which only those who know the node id can
// derive. Storers are picked by distance to the blinded key, so they
// change every period too.
//
// Envelope (version 1), big endian:
//
//	"OM5B" | version=1 | blinded key (32) | period (8)
//	| issued unix ms (8) | expires unix ms (8) | nonce (24)
//	| ciphertext length (2) | ciphertext (XChaCha20-Poly1305, the header
//	  up to the nonce as associated data) | signature (64) by the blinded
//	  key over everything before it

// PeriodLength is how long one blinded storage key is used.
const PeriodLength = 24 * time.Hour

const (
	storedMagic   = "OM5B"
	storedVersion = 1
	storedHeader  = 4 + 1 + 32 + 8 + 8 + 8
	// MaxStoredSize bounds an envelope: a lease message (record and set)
	// plus the envelope's own bytes.
	MaxStoredSize = 64 << 10
	// MaxStoredLifetime bounds expires-issued; longer envelopes are
	// refused so a storer's memory cannot be held for long.
	MaxStoredLifetime = 7 * 24 * time.Hour
	// storedSkew is how far in the future an issue time may be.
	storedSkew = 5 * time.Minute
)

// ErrBadStored marks an envelope that fails to decode or verify.
var ErrBadStored = errors.New("lease: bad stored envelope")

// Period returns the storage period of t.
func Period(t time.Time) uint64 {
	return uint64(t.Unix()) / uint64(PeriodLength/time.Second)
}

func periodLabel(p uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("onemfive lease period "), p)
}

// StorageKey returns the blinded key owner's lease sets are stored under
// in period p.
func StorageKey(owner node.ID, p uint64) ([32]byte, error) {
	_, pub, err := node.ParseID(string(owner))
	if err != nil {
		return [32]byte{}, fmt.Errorf("lease: storage key: %w", err)
	}
	b, err := node.BlindPublic(pub, periodLabel(p))
	if err != nil {
		return [32]byte{}, fmt.Errorf("lease: storage key: %w", err)
	}
	return [32]byte(b), nil
}

// StorageID is the storage key in node-id form, for Closest.
func StorageID(key [32]byte) node.ID { return node.IDFromKey(key[:]) }

func sealKey(owner ed25519.PublicKey, key [32]byte) ([]byte, error) {
	return hkdf.Key(sha256.New, owner, key[:], "onemfive lease seal v1", chacha20poly1305.KeySize)
}

// Seal makes the envelope of plain (a lease message) that id stores for
// period p, valid from issued to expires. rand supplies the nonce.
func Seal(id *node.Identity, p uint64, issued, expires time.Time, plain []byte, rand io.Reader) ([]byte, error) {
	if !expires.After(issued) || expires.Sub(issued) > MaxStoredLifetime {
		return nil, fmt.Errorf("lease: seal: lifetime %v outside (0, %v]", expires.Sub(issued), MaxStoredLifetime)
	}
	bk, err := id.Blind(periodLabel(p))
	if err != nil {
		return nil, fmt.Errorf("lease: seal: %w", err)
	}
	key := [32]byte(bk.Public())
	k, err := sealKey(id.SigningKey(), key)
	if err != nil {
		return nil, fmt.Errorf("lease: seal: %w", err)
	}
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, fmt.Errorf("lease: seal: %w", err)
	}
	b := make([]byte, 0, storedHeader+chacha20poly1305.NonceSizeX+2+len(plain)+aead.Overhead()+ed25519.SignatureSize)
	b = append(b, storedMagic...)
	b = append(b, storedVersion)
	b = append(b, key[:]...)
	b = binary.BigEndian.AppendUint64(b, p)
	b = binary.BigEndian.AppendUint64(b, uint64(issued.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(expires.UnixMilli()))
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("lease: seal: nonce: %w", err)
	}
	ad := bytes.Clone(b)
	b = append(b, nonce...)
	ct := aead.Seal(nil, nonce, plain, ad)
	if len(ct) > 0xffff {
		return nil, fmt.Errorf("lease: seal: %d-byte lease message", len(plain))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(ct)))
	b = append(b, ct...)
	if len(b)+ed25519.SignatureSize > MaxStoredSize {
		return nil, fmt.Errorf("lease: seal: envelope of %d bytes, limit %d", len(b)+ed25519.SignatureSize, MaxStoredSize)
	}
	return append(b, bk.Sign(b)...), nil
}

// Stored is an envelope whose signature verified: what a storer keeps.
type Stored struct {
	Key             [32]byte
	Period          uint64
	Issued, Expires time.Time
	raw             []byte
	ad, nonce, ct   []byte
}

// DecodeStored checks an envelope's structure, bounds and signature by
// the key it names. It does not need, and does not learn, the owner.
func DecodeStored(b []byte) (*Stored, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadStored, fmt.Sprintf(format, a...))
	}
	least := storedHeader + chacha20poly1305.NonceSizeX + 2 + chacha20poly1305.Overhead + ed25519.SignatureSize
	switch {
	case len(b) < least || len(b) > MaxStoredSize:
		return nil, bad("%d bytes, want %d to %d", len(b), least, MaxStoredSize)
	case string(b[:4]) != storedMagic:
		return nil, bad("wrong magic")
	case b[4] != storedVersion:
		return nil, bad("unsupported version %d", b[4])
	}
	s := &Stored{Key: [32]byte(b[5:37]), Period: binary.BigEndian.Uint64(b[37:45])}
	s.Issued = time.UnixMilli(int64(binary.BigEndian.Uint64(b[45:53])))
	s.Expires = time.UnixMilli(int64(binary.BigEndian.Uint64(b[53:61])))
	if !s.Expires.After(s.Issued) || s.Expires.Sub(s.Issued) > MaxStoredLifetime {
		return nil, bad("lifetime %v outside (0, %v]", s.Expires.Sub(s.Issued), MaxStoredLifetime)
	}
	p := storedHeader
	s.ad, s.nonce = b[:p], b[p:p+chacha20poly1305.NonceSizeX]
	p += chacha20poly1305.NonceSizeX
	n := int(binary.BigEndian.Uint16(b[p:]))
	p += 2
	if n < chacha20poly1305.Overhead || p+n+ed25519.SignatureSize != len(b) {
		return nil, bad("ciphertext of %d bytes in %d", n, len(b)-p-ed25519.SignatureSize)
	}
	s.ct = b[p : p+n]
	if !ed25519.Verify(s.Key[:], b[:p+n], b[p+n:]) {
		return nil, bad("signature does not verify")
	}
	s.raw = b
	return s, nil
}

// Bytes is the envelope as received.
func (s *Stored) Bytes() []byte { return s.raw }

// Current reports whether the envelope is valid at now: not expired, not
// issued further ahead than clock skew allows, and for a period that
// overlaps its lifetime.
func (s *Stored) Current(now time.Time) bool {
	return now.Before(s.Expires) && !s.Issued.After(now.Add(storedSkew)) &&
		Period(s.Issued) <= s.Period && s.Period <= Period(s.Expires)
}

// Supersedes reports whether s replaces old at the same key: issued later.
func (s *Stored) Supersedes(old *Stored) bool { return s.Issued.After(old.Issued) }

// Open decrypts the envelope as owner's: it fails unless the key is
// owner's blinded key for the envelope's period and the ciphertext
// authenticates.
func (s *Stored) Open(owner node.ID) ([]byte, error) {
	want, err := StorageKey(owner, s.Period)
	if err != nil {
		return nil, err
	}
	if want != s.Key {
		return nil, fmt.Errorf("%w: stored under another key than %s's for period %d", ErrBadStored, owner.Short(), s.Period)
	}
	_, pub, _ := node.ParseID(string(owner))
	k, err := sealKey(pub, s.Key)
	if err != nil {
		return nil, fmt.Errorf("lease: open: %w", err)
	}
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return nil, fmt.Errorf("lease: open: %w", err)
	}
	plain, err := aead.Open(nil, s.nonce, s.ct, s.ad)
	if err != nil {
		return nil, fmt.Errorf("%w: does not decrypt for %s", ErrBadStored, owner.Short())
	}
	return plain, nil
}
