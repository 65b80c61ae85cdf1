package mixkey

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

// Record is a signed mix-key record: node ID publishes MixKey for Epoch,
// valid in [ValidFrom, ValidUntil).
type Record struct {
	ID         node.ID
	SigningKey ed25519.PublicKey
	Epoch      uint64
	ValidFrom  time.Time
	ValidUntil time.Time
	MixKey     *ecdh.PublicKey
}

// Record encoding (version 1), big endian, fixed size:
//
//	"OM5M" | version=1 | ed25519 pub (32) | epoch (8)
//	| valid-from unix ms (8) | valid-until unix ms (8) | x25519 pub (32)
//	| ed25519 signature (64) over everything before it
//
// The magic differs from the peer record's ("OM5R"), so one signature can
// never be taken for the other.
const (
	recordMagic   = "OM5M"
	recordVersion = 1
	recordBody    = 4 + 1 + 32 + 8 + 8 + 8 + 32
	// RecordSize is the size of an encoded mix-key record.
	RecordSize = recordBody + ed25519.SignatureSize
)

// ErrBadRecord is wrapped by every record decoding error.
var ErrBadRecord = errors.New("mixkey: bad mix-key record")

// NewRecord makes and signs id's record for k, valid over k's epoch of s
// plus the grace window either side.
func NewRecord(id *node.Identity, k Key, s Schedule) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if k.Private == nil {
		return nil, errors.New("mixkey: new record: no key")
	}
	r := Record{
		ID:         id.ID(),
		SigningKey: id.SigningKey(),
		Epoch:      k.Epoch,
		ValidFrom:  s.ValidFrom(k.Epoch),
		ValidUntil: s.ValidUntil(k.Epoch),
		MixKey:     k.Public(),
	}
	body := r.encodeBody()
	return append(body, id.Sign(body)...), nil
}

func (r *Record) encodeBody() []byte {
	b := make([]byte, 0, RecordSize)
	b = append(b, recordMagic...)
	b = append(b, recordVersion)
	b = append(b, r.SigningKey...)
	b = binary.BigEndian.AppendUint64(b, r.Epoch)
	b = binary.BigEndian.AppendUint64(b, uint64(r.ValidFrom.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.ValidUntil.UnixMilli()))
	return append(b, r.MixKey.Bytes()...)
}

// DecodeRecord parses a record and verifies its signature by the key it
// names. The caller still checks that ID is the node it expected (Verify)
// and that the record is current (ValidAt).
func DecodeRecord(b []byte) (*Record, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRecord, fmt.Sprintf(format, a...))
	}
	if len(b) != RecordSize {
		return nil, bad("%d bytes, want %d", len(b), RecordSize)
	}
	if string(b[:4]) != recordMagic {
		return nil, bad("wrong magic")
	}
	if b[4] != recordVersion {
		return nil, bad("unsupported version %d", b[4])
	}
	body, sig := b[:recordBody], b[recordBody:]
	spub := ed25519.PublicKey(bytes.Clone(b[5:37]))
	if !ed25519.Verify(spub, body, sig) {
		return nil, bad("signature does not verify")
	}
	from := int64(binary.BigEndian.Uint64(b[45:53]))
	until := int64(binary.BigEndian.Uint64(b[53:61]))
	if until <= from {
		return nil, bad("valid-until %d is not after valid-from %d", until, from)
	}
	mk, err := ecdh.X25519().NewPublicKey(b[61:93])
	if err != nil {
		return nil, bad("x25519 key: %v", err)
	}
	return &Record{
		ID:         node.IDFromKey(spub),
		SigningKey: spub,
		Epoch:      binary.BigEndian.Uint64(b[37:45]),
		ValidFrom:  time.UnixMilli(from).UTC(),
		ValidUntil: time.UnixMilli(until).UTC(),
		MixKey:     mk,
	}, nil
}

// Verify decodes b and checks that it is a record of node id valid at now.
func Verify(b []byte, id node.ID, now time.Time) (*Record, error) {
	r, err := DecodeRecord(b)
	if err != nil {
		return nil, err
	}
	if r.ID != id {
		return nil, fmt.Errorf("%w: signed by %s, want %s", ErrBadRecord, r.ID.Short(), id.Short())
	}
	if !r.ValidAt(now) {
		return nil, fmt.Errorf("%w: epoch %d valid %s to %s, not at %s", ErrBadRecord, r.Epoch,
			r.ValidFrom.Format(time.RFC3339), r.ValidUntil.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return r, nil
}

// ValidAt reports whether t is within [ValidFrom, ValidUntil).
func (r *Record) ValidAt(t time.Time) bool {
	return !t.Before(r.ValidFrom) && t.Before(r.ValidUntil)
}

// NodeKey returns the node's Ed25519 public key as the fixed array onion
// hops and commands use.
func (r *Record) NodeKey() [32]byte {
	var k [32]byte
	copy(k[:], r.SigningKey)
	return k
}
