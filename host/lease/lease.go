package lease

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
)

// Lease is one way in: a gateway relay and reply blocks from it to the owner.
type Lease struct {
	// Gateway is the gateway's Ed25519 public key (its node id in raw form).
	Gateway [32]byte
	// Replies are reply blocks whose FirstHop is Gateway.
	Replies []onion.SURB
}

// GatewayID returns the gateway's node id.
func (l *Lease) GatewayID() node.ID { return node.IDFromKey(l.Gateway[:]) }

// Set is a decoded, verified lease set.
type Set struct {
	ID         node.ID
	SigningKey ed25519.PublicKey
	Issued     time.Time
	Expires    time.Time
	Leases     []Lease
}

// Encoding (version 1), big endian:
//
//	"OM5L" | version=1 | owner ed25519 pub (32) | issued unix ms (8)
//	| expires unix ms (8) | leases (1)
//	{ gateway ed25519 pub (32) | replies (1) { SURB (onion.SURBSize) } }
//	| ed25519 signature (64) over everything before it
const (
	magic   = "OM5L"
	version = 1
	// MaxLeases bounds the leases in one set.
	MaxLeases = 8
	// MaxReplies bounds the reply blocks in one lease.
	MaxReplies = 4
	// MaxLifetime bounds Expires - Issued.
	MaxLifetime = 24 * time.Hour
	// MaxClockSkew is how far in the future Issued may be when verified.
	MaxClockSkew = 5 * time.Minute

	headerSize = 4 + 1 + 32 + 8 + 8 + 1
	leaseHead  = 32 + 1
	// MaxSize bounds an encoded lease set.
	MaxSize = headerSize + MaxLeases*(leaseHead+MaxReplies*onion.SURBSize) + ed25519.SignatureSize
)

// ErrBadLeaseSet is wrapped by every decoding and verification error.
var ErrBadLeaseSet = errors.New("lease: bad lease set")

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadLeaseSet, fmt.Sprintf(format, a...))
}

// Sign encodes and signs id's lease set.
func Sign(id *node.Identity, issued, expires time.Time, leases []Lease) ([]byte, error) {
	s := &Set{ID: id.ID(), SigningKey: id.SigningKey(), Issued: issued, Expires: expires, Leases: leases}
	if err := s.check(); err != nil {
		return nil, err
	}
	body := s.encodeBody()
	return append(body, id.Sign(body)...), nil
}

// check validates the structure shared by Sign and Decode.
func (s *Set) check() error {
	if !s.Expires.After(s.Issued) {
		return bad("expires %v is not after issued %v", s.Expires, s.Issued)
	}
	if s.Expires.Sub(s.Issued) > MaxLifetime {
		return bad("lifetime %v exceeds %v", s.Expires.Sub(s.Issued), MaxLifetime)
	}
	if len(s.Leases) == 0 || len(s.Leases) > MaxLeases {
		return bad("%d leases, want 1 to %d", len(s.Leases), MaxLeases)
	}
	seen := make(map[[32]byte]bool, len(s.Leases))
	for i := range s.Leases {
		l := &s.Leases[i]
		if seen[l.Gateway] {
			return bad("gateway %s listed twice", l.GatewayID().Short())
		}
		seen[l.Gateway] = true
		if len(l.Replies) == 0 || len(l.Replies) > MaxReplies {
			return bad("lease %d: %d reply blocks, want 1 to %d", i, len(l.Replies), MaxReplies)
		}
		for j := range l.Replies {
			if l.Replies[j].FirstHop != l.Gateway {
				return bad("lease %d reply %d does not start at the gateway", i, j)
			}
			if l.Replies[j].Header[0] != onion.Version {
				return bad("lease %d reply %d: header version %d", i, j, l.Replies[j].Header[0])
			}
		}
	}
	return nil
}

func (s *Set) encodeBody() []byte {
	b := make([]byte, 0, MaxSize)
	b = append(b, magic...)
	b = append(b, version)
	b = append(b, s.SigningKey...)
	b = binary.BigEndian.AppendUint64(b, uint64(s.Issued.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Expires.UnixMilli()))
	b = append(b, byte(len(s.Leases)))
	for i := range s.Leases {
		l := &s.Leases[i]
		b = append(b, l.Gateway[:]...)
		b = append(b, byte(len(l.Replies)))
		for j := range l.Replies {
			sb, _ := l.Replies[j].MarshalBinary() // never fails
			b = append(b, sb...)
		}
	}
	return b
}

// Decode parses a lease set, checks its limits and structure, and verifies
// its signature by the owner key it names.
func Decode(b []byte) (*Set, error) {
	if len(b) > MaxSize {
		return nil, bad("%d bytes, limit %d", len(b), MaxSize)
	}
	if len(b) < headerSize+ed25519.SignatureSize {
		return nil, bad("truncated (%d bytes)", len(b))
	}
	if string(b[:4]) != magic {
		return nil, bad("wrong magic")
	}
	if b[4] != version {
		return nil, bad("unsupported version %d", b[4])
	}
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	pub := ed25519.PublicKey(bytes.Clone(b[5:37]))
	if !ed25519.Verify(pub, body, sig) {
		return nil, bad("signature does not verify")
	}
	s := &Set{
		ID:         node.IDFromKey(pub),
		SigningKey: pub,
		Issued:     time.UnixMilli(int64(binary.BigEndian.Uint64(b[37:45]))).UTC(),
		Expires:    time.UnixMilli(int64(binary.BigEndian.Uint64(b[45:53]))).UTC(),
	}
	n := int(b[53])
	if n == 0 || n > MaxLeases {
		return nil, bad("%d leases, want 1 to %d", n, MaxLeases)
	}
	p := body[headerSize:]
	s.Leases = make([]Lease, n)
	for i := range s.Leases {
		if len(p) < leaseHead {
			return nil, bad("lease %d truncated", i)
		}
		l := &s.Leases[i]
		copy(l.Gateway[:], p)
		r := int(p[32])
		p = p[leaseHead:]
		if r == 0 || r > MaxReplies {
			return nil, bad("lease %d: %d reply blocks, want 1 to %d", i, r, MaxReplies)
		}
		if len(p) < r*onion.SURBSize {
			return nil, bad("lease %d reply blocks truncated", i)
		}
		l.Replies = make([]onion.SURB, r)
		for j := range l.Replies {
			sb, err := onion.ParseSURB(p[:onion.SURBSize])
			if err != nil {
				return nil, bad("lease %d reply %d: %v", i, j, err)
			}
			l.Replies[j] = *sb
			p = p[onion.SURBSize:]
		}
	}
	if len(p) != 0 {
		return nil, bad("%d trailing bytes", len(p))
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// Verify decodes b and checks that it is owner's lease set and current at
// now: not expired, and issued no later than now plus MaxClockSkew.
func Verify(b []byte, owner node.ID, now time.Time) (*Set, error) {
	s, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if s.ID != owner {
		return nil, bad("signed by %s, want %s", s.ID.Short(), owner.Short())
	}
	if s.Expired(now) {
		return nil, bad("expired at %s", s.Expires.Format(time.RFC3339))
	}
	if s.Issued.After(now.Add(MaxClockSkew)) {
		return nil, bad("issued in the future (%s)", s.Issued.Format(time.RFC3339))
	}
	return s, nil
}

// Expired reports whether the set has expired at now.
func (s *Set) Expired(now time.Time) bool { return !now.Before(s.Expires) }

// RefreshAt is when the owner should publish a new set: after three
// quarters of the lifetime, so the new set has time to reach the storing
// peers before this one expires.
func (s *Set) RefreshAt() time.Time { return s.Expires.Add(-s.Expires.Sub(s.Issued) / 4) }

// NeedsRefresh reports whether the owner should publish a new set at now.
func (s *Set) NeedsRefresh(now time.Time) bool { return !now.Before(s.RefreshAt()) }

// Supersedes reports whether s should replace old at a storing peer: same
// owner and issued later.
func (s *Set) Supersedes(old *Set) bool {
	return old == nil || (s.ID == old.ID && s.Issued.After(old.Issued))
}
