package mixkey

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

// detRand is a deterministic byte stream for tests.
type detRand struct {
	seed string
	n    uint64
	buf  []byte
}

func (d *detRand) Read(p []byte) (int, error) {
	for i := range p {
		if len(d.buf) == 0 {
			h := sha256.Sum256([]byte(d.seed + string(rune(d.n))))
			d.n++
			d.buf = h[:]
		}
		p[i] = d.buf[0]
		d.buf = d.buf[1:]
	}
	return len(p), nil
}

func sched() Schedule {
	return Schedule{Origin: time.Unix(1_700_000_000, 0).UTC(), Length: time.Hour, Grace: 10 * time.Minute}
}

func TestEpochs(t *testing.T) {
	s := sched()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	o := s.Origin
	cases := []struct {
		at   time.Time
		want uint64
		acc  []uint64
	}{
		{o.Add(-time.Hour), 0, []uint64{0}}, // before the origin: epoch 0 (not yet accepted, but listed)
		{o, 0, []uint64{0}},
		{o.Add(59*time.Minute + 59*time.Second), 0, []uint64{0, 1}},
		{o.Add(time.Hour), 1, []uint64{0, 1}},
		{o.Add(time.Hour + 9*time.Minute), 1, []uint64{0, 1}},
		{o.Add(time.Hour + 10*time.Minute), 1, []uint64{1}},
		{o.Add(time.Hour + 30*time.Minute), 1, []uint64{1}},
		{o.Add(time.Hour + 50*time.Minute), 1, []uint64{1, 2}},
	}
	for _, c := range cases {
		if got := s.Epoch(c.at); got != c.want {
			t.Errorf("Epoch(%v) = %d, want %d", c.at.Sub(o), got, c.want)
		}
		if got := s.AcceptedEpochs(c.at); !equalU(got, c.acc) {
			t.Errorf("AcceptedEpochs(%v) = %v, want %v", c.at.Sub(o), got, c.acc)
		}
	}
	if !s.Start(3).Equal(o.Add(3*time.Hour)) || !s.End(3).Equal(o.Add(4*time.Hour)) {
		t.Fatal("start/end")
	}
	for _, bad := range []Schedule{{Length: 0}, {Length: time.Hour, Grace: 30 * time.Minute}, {Length: time.Hour, Grace: -1}} {
		if bad.Validate() == nil {
			t.Errorf("schedule %+v accepted", bad)
		}
	}
	if DefaultSchedule().Validate() != nil {
		t.Fatal("default schedule invalid")
	}
}

func equalU(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRing(t *testing.T) {
	s := sched()
	var r Ring
	now := s.Start(5).Add(55 * time.Minute)
	made, err := r.Ensure(&detRand{seed: "ring"}, s, now)
	if err != nil || len(made) != 2 || made[0].Epoch != 5 || made[1].Epoch != 6 {
		t.Fatalf("ensure: %v %v", made, err)
	}
	if again, _ := r.Ensure(&detRand{seed: "x"}, s, now); len(again) != 0 {
		t.Fatal("ensure regenerated existing keys")
	}
	if bytes.Equal(made[0].Private.Bytes(), made[1].Private.Bytes()) {
		t.Fatal("two epochs share a key")
	}
	if acc := r.Accepted(s, now); len(acc) != 2 || acc[0].Epoch != 5 || acc[1].Epoch != 6 {
		t.Fatalf("accepted %v", acc)
	}
	k, err := r.Get(5)
	if err != nil || !k.Private.Equal(made[0].Private) {
		t.Fatalf("get: %v", err)
	}
	if _, err := r.Get(9); !errors.Is(err, ErrNoKey) {
		t.Fatalf("get missing: %v", err)
	}
	// Epoch 5 stays until the grace window after its end closes.
	if gone := r.Prune(s, s.End(5).Add(9*time.Minute)); len(gone) != 0 {
		t.Fatalf("pruned early: %v", gone)
	}
	if gone := r.Prune(s, s.End(5).Add(10*time.Minute)); !equalU(gone, []uint64{5}) {
		t.Fatalf("pruned %v", gone)
	}
	if !equalU(r.Epochs(), []uint64{6}) {
		t.Fatalf("left %v", r.Epochs())
	}
	// Secret key persistence.
	b, err := made[1].MarshalBinary()
	if err != nil || len(b) != KeySize {
		t.Fatal(err)
	}
	back, err := ParseKey(b)
	if err != nil || back.Epoch != 6 || !back.Private.Equal(made[1].Private) {
		t.Fatalf("parse key: %v", err)
	}
	if _, err := ParseKey(b[1:]); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestRecord(t *testing.T) {
	id, err := node.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	s := sched()
	k, _ := Generate(&detRand{seed: "rec"}, 7)
	b, err := NewRecord(id, k, s)
	if err != nil || len(b) != RecordSize {
		t.Fatalf("new record: %d %v", len(b), err)
	}
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != id.ID() || r.Epoch != 7 || !r.MixKey.Equal(k.Public()) ||
		!r.ValidFrom.Equal(s.Start(7).Add(-s.Grace)) || !r.ValidUntil.Equal(s.End(7).Add(s.Grace)) {
		t.Fatalf("decoded %+v", r)
	}
	if nk := r.NodeKey(); !bytes.Equal(nk[:], id.SigningKey()) {
		t.Fatal("node key")
	}
	if _, err := Verify(b, id.ID(), s.Start(7)); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(b, id.ID(), s.End(7).Add(s.Grace)); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("expired record verified: %v", err)
	}
	other, _ := node.NewIdentity()
	if _, err := Verify(b, other.ID(), s.Start(7)); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("record verified for the wrong node: %v", err)
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x80
		if _, err := DecodeRecord(c); !errors.Is(err, ErrBadRecord) {
			t.Fatalf("flip at byte %d not rejected: %v", i, err)
		}
	}
	if _, err := DecodeRecord(append(bytes.Clone(b), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	id, _ := node.NewIdentity()
	k, _ := Generate(&detRand{seed: "fuzz"}, 3)
	b, _ := NewRecord(id, k, sched())
	f.Add(b)
	f.Add([]byte("OM5M\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRecord(data)
		if err != nil {
			return
		}
		if !bytes.Equal(r.encodeBody(), data[:recordBody]) {
			t.Fatal("decoded record re-encodes differently")
		}
		if !r.ValidUntil.After(r.ValidFrom) {
			t.Fatal("decoded record with empty validity")
		}
	})
}
