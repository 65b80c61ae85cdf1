package lease

import (
	"bytes"
	"crypto/ecdh"
	crand "crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
)

var t0 = time.UnixMilli(1_900_000_000_000).UTC()

func detRand(seed byte) *rand.ChaCha8 {
	return rand.NewChaCha8([32]byte{seed})
}

// relay is a test relay with a mix key.
type relay struct {
	id  *node.Identity
	mix *ecdh.PrivateKey
}

func newRelay(t testing.TB) relay {
	t.Helper()
	id, err := node.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	mk, err := ecdh.X25519().GenerateKey(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return relay{id, mk}
}

func (r relay) hop() onion.Hop {
	h := onion.Hop{Key: r.mix.PublicKey()}
	copy(h.ID[:], r.id.SigningKey())
	return h
}

// makeLease builds a lease through gw and mid to owner with n reply blocks.
func makeLease(t testing.TB, gw, mid, owner relay, n int) (Lease, []*onion.SURBKeys) {
	t.Helper()
	l := Lease{Gateway: gw.hop().ID}
	var keys []*onion.SURBKeys
	for i := range n {
		s, k, err := onion.NewSURB(detRand(byte(i)), []onion.Hop{gw.hop(), mid.hop(), owner.hop()})
		if err != nil {
			t.Fatal(err)
		}
		l.Replies = append(l.Replies, *s)
		keys = append(keys, k)
	}
	return l, keys
}

func TestRoundTripAndUse(t *testing.T) {
	owner, gw1, gw2, mid := newRelay(t), newRelay(t), newRelay(t), newRelay(t)
	l1, keys := makeLease(t, gw1, mid, owner, 2)
	l2, _ := makeLease(t, gw2, mid, owner, 1)
	b, err := Sign(owner.id, t0, t0.Add(time.Hour), []Lease{l1, l2})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(b, owner.id.ID(), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != owner.id.ID() || !s.Issued.Equal(t0) || !s.Expires.Equal(t0.Add(time.Hour)) || len(s.Leases) != 2 {
		t.Fatalf("decoded %+v", s)
	}
	if s.Leases[0].GatewayID() != gw1.id.ID() || s.Leases[1].GatewayID() != gw2.id.ID() || len(s.Leases[0].Replies) != 2 {
		t.Fatal("leases changed in the round trip")
	}
	if s.Leases[0].Replies[1] != l1.Replies[1] {
		t.Fatal("reply block changed in the round trip")
	}

	// A sender uses a decoded reply block; the packet travels gateway, mid,
	// owner, and the owner opens it.
	pkt, err := onion.PacketFromSURB(&s.Leases[0].Replies[1], []byte("hello owner"))
	if err != nil {
		t.Fatal(err)
	}
	for _, hop := range []relay{gw1, mid} {
		res, err := onion.Unwrap(hop.mix, pkt)
		if err != nil || res.Command.Kind != onion.KindRelay {
			t.Fatalf("relay: %v", err)
		}
		pkt = res.Packet
	}
	res, err := onion.Unwrap(owner.mix, pkt)
	if err != nil || res.Command.Kind != onion.KindDeliverSURB || res.Command.SURBID != keys[1].ID {
		t.Fatalf("owner: %v", err)
	}
	msg, err := keys[1].Open(res.Payload)
	if err != nil || string(msg) != "hello owner" {
		t.Fatalf("open: %q %v", msg, err)
	}
}

func TestTamperRejected(t *testing.T) {
	owner, gw, mid := newRelay(t), newRelay(t), newRelay(t)
	l, _ := makeLease(t, gw, mid, owner, 1)
	b, err := Sign(owner.id, t0, t0.Add(time.Hour), []Lease{l})
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x10
		if _, err := Decode(c); !errors.Is(err, ErrBadLeaseSet) {
			t.Fatalf("flip at byte %d not rejected: %v", i, err)
		}
	}
	for _, c := range [][]byte{b[:len(b)-1], append(bytes.Clone(b), 0), nil, make([]byte, MaxSize+1)} {
		if _, err := Decode(c); !errors.Is(err, ErrBadLeaseSet) {
			t.Fatalf("%d bytes accepted: %v", len(c), err)
		}
	}
	other := newRelay(t)
	if _, err := Verify(b, other.id.ID(), t0); !errors.Is(err, ErrBadLeaseSet) {
		t.Fatalf("verified for the wrong owner: %v", err)
	}
}

func TestSignRejects(t *testing.T) {
	owner, gw, mid := newRelay(t), newRelay(t), newRelay(t)
	l, _ := makeLease(t, gw, mid, owner, 1)
	wrongStart := l
	wrongStart.Replies = []onion.SURB{l.Replies[0]}
	wrongStart.Replies[0].FirstHop[0] ^= 1
	many := Lease{Gateway: l.Gateway, Replies: slices.Repeat(l.Replies, MaxReplies+1)}
	cases := map[string]struct {
		issued, expires time.Time
		leases          []Lease
	}{
		"no leases":       {t0, t0.Add(time.Hour), nil},
		"expires first":   {t0, t0, []Lease{l}},
		"too long":        {t0, t0.Add(MaxLifetime + time.Millisecond), []Lease{l}},
		"dup gateway":     {t0, t0.Add(time.Hour), []Lease{l, l}},
		"wrong first hop": {t0, t0.Add(time.Hour), []Lease{wrongStart}},
		"too many":        {t0, t0.Add(time.Hour), []Lease{many}},
		"no replies":      {t0, t0.Add(time.Hour), []Lease{{Gateway: l.Gateway}}},
	}
	for name, c := range cases {
		if _, err := Sign(owner.id, c.issued, c.expires, c.leases); !errors.Is(err, ErrBadLeaseSet) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The largest set fits MaxSize exactly.
	var full []Lease
	for range MaxLeases {
		g := newRelay(t)
		fl, _ := makeLease(t, g, mid, owner, MaxReplies)
		full = append(full, fl)
	}
	b, err := Sign(owner.id, t0, t0.Add(time.Hour), full)
	if err != nil || len(b) != MaxSize {
		t.Fatalf("full set: %d bytes (limit %d), %v", len(b), MaxSize, err)
	}
	if _, err := Decode(b); err != nil {
		t.Fatal(err)
	}
}

func TestExpiryAndRefresh(t *testing.T) {
	owner, gw, mid := newRelay(t), newRelay(t), newRelay(t)
	l, _ := makeLease(t, gw, mid, owner, 1)
	b, _ := Sign(owner.id, t0, t0.Add(40*time.Minute), []Lease{l})
	s, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at               time.Duration
		refresh, expired bool
	}{
		{0, false, false},
		{29*time.Minute + 59*time.Second, false, false},
		{30 * time.Minute, true, false},
		{39 * time.Minute, true, false},
		{40 * time.Minute, true, true},
	} {
		now := t0.Add(c.at)
		if s.NeedsRefresh(now) != c.refresh || s.Expired(now) != c.expired {
			t.Errorf("at %v: refresh %v expired %v, want %v %v", c.at, s.NeedsRefresh(now), s.Expired(now), c.refresh, c.expired)
		}
	}
	if _, err := Verify(b, owner.id.ID(), t0.Add(40*time.Minute)); !errors.Is(err, ErrBadLeaseSet) {
		t.Fatalf("expired set verified: %v", err)
	}
	if _, err := Verify(b, owner.id.ID(), t0.Add(-MaxClockSkew-time.Millisecond)); !errors.Is(err, ErrBadLeaseSet) {
		t.Fatalf("future set verified: %v", err)
	}
	if _, err := Verify(b, owner.id.ID(), t0.Add(-MaxClockSkew)); err != nil {
		t.Fatalf("set within skew rejected: %v", err)
	}
	b2, _ := Sign(owner.id, t0.Add(time.Minute), t0.Add(time.Hour), []Lease{l})
	s2, _ := Decode(b2)
	if !s2.Supersedes(s) || s.Supersedes(s2) || !s.Supersedes(nil) {
		t.Fatal("supersedes")
	}
}

func TestClosest(t *testing.T) {
	ids := make([]node.ID, 50)
	for i := range ids {
		id, err := node.NewIdentity()
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id.ID()
	}
	target := ids[0]
	got := Closest(target, append(slices.Clone(ids), ids[3], ids[4]), 8)
	if len(got) != 8 || got[0] != target {
		t.Fatalf("closest %v", got)
	}
	// Brute force: nobody outside the result is nearer than its farthest.
	far := Distance(target, got[len(got)-1])
	for i := 1; i < len(got); i++ {
		a, b := Distance(target, got[i-1]), Distance(target, got[i])
		if bytes.Compare(a[:], b[:]) >= 0 {
			t.Fatalf("not ordered at %d", i)
		}
	}
	for _, id := range ids {
		if slices.Contains(got, id) {
			continue
		}
		d := Distance(target, id)
		if bytes.Compare(d[:], far[:]) < 0 {
			t.Fatalf("%s is nearer than the result's farthest", id.Short())
		}
	}
	// Distance is symmetric and zero only to itself.
	if Distance(ids[1], ids[2]) != Distance(ids[2], ids[1]) || Distance(ids[1], ids[1]) != [32]byte{} {
		t.Fatal("distance")
	}
	// A known value: the hashes themselves.
	ha, hb := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	if d := Distance("a", "b"); d[0] != ha[0]^hb[0] || d[31] != ha[31]^hb[31] {
		t.Fatal("distance is not the xor of the hashes")
	}
	if len(Closest(target, ids, 0)) != 0 || len(Closest(target, ids[:3], 10)) != 3 {
		t.Fatal("k bounds")
	}
}

func FuzzDecode(f *testing.F) {
	owner, gw, mid := newRelay(f), newRelay(f), newRelay(f)
	l, _ := makeLease(f, gw, mid, owner, 2)
	b, err := Sign(owner.id, t0, t0.Add(time.Hour), []Lease{l})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("OM5L\x01"))
	f.Add(b[:headerSize+leaseHead])
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrBadLeaseSet) {
				t.Fatalf("error %v does not wrap ErrBadLeaseSet", err)
			}
			return
		}
		if !bytes.Equal(s.encodeBody(), data[:len(data)-64]) {
			t.Fatal("decoded set re-encodes differently")
		}
		if err := s.check(); err != nil {
			t.Fatal(fmt.Errorf("decoded set fails its own checks: %w", err))
		}
	})
}
