package lease

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

func TestStoredRoundTrip(t *testing.T) {
	owner, err := node.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p := Period(now)
	plain := []byte("record and lease set")
	b, err := Seal(owner, p, now, now.Add(10*time.Minute), plain, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, owner.SigningKey()) || bytes.Contains(b, plain) || bytes.Contains(b, []byte(owner.ID())) {
		t.Fatal("the envelope shows the owner's key, id or the plaintext")
	}
	s, err := DecodeStored(b)
	if err != nil {
		t.Fatal(err)
	}
	key, err := StorageKey(owner.ID(), p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Key != key || s.Period != p || !s.Current(now) || !bytes.Equal(s.Bytes(), b) {
		t.Fatalf("decoded %+v, want key %x period %d, current", s, key, p)
	}
	got, err := s.Open(owner.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatalf("opened %q, want %q", got, plain)
	}
	// Another node cannot open it as its own, nor does the key match.
	other, _ := node.NewIdentity()
	if _, err := s.Open(other.ID()); !errors.Is(err, ErrBadStored) {
		t.Errorf("opened as another owner: %v", err)
	}
	// The next period's key is unrelated.
	next, _ := StorageKey(owner.ID(), p+1)
	if next == key {
		t.Error("two periods share a storage key")
	}
	if s.Current(now.Add(11 * time.Minute)) {
		t.Error("current after it expired")
	}
	if s.Current(now.Add(-10 * time.Minute)) {
		t.Error("current when issued ten minutes in the future")
	}
	// Newer supersedes older.
	b2, err := Seal(owner, p, now.Add(time.Second), now.Add(10*time.Minute), plain, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := DecodeStored(b2)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Supersedes(s) || s.Supersedes(s2) {
		t.Error("Supersedes does not follow issue times")
	}
}

func TestStoredRejectsTampering(t *testing.T) {
	owner, _ := node.NewIdentity()
	now := time.Now()
	b, err := Seal(owner, Period(now), now, now.Add(time.Hour), []byte("x"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		if _, err := DecodeStored(c); err == nil {
			t.Fatalf("flipping a bit of byte %d went unnoticed", i)
		} else if !errors.Is(err, ErrBadStored) {
			t.Fatalf("byte %d: error %v does not wrap ErrBadStored", i, err)
		}
	}
	if _, err := Seal(owner, Period(now), now, now.Add(MaxStoredLifetime+time.Second), []byte("x"), rand.Reader); err == nil {
		t.Error("sealed a lifetime over the limit")
	}
	if _, err := Seal(owner, Period(now), now, now, []byte("x"), rand.Reader); err == nil {
		t.Error("sealed an empty lifetime")
	}
}

func FuzzDecodeStored(f *testing.F) {
	owner, err := node.NewIdentity()
	if err != nil {
		f.Fatal(err)
	}
	now := time.UnixMilli(1_790_000_000_000)
	b, err := Seal(owner, Period(now), now, now.Add(time.Hour), []byte("lease message"), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:storedHeader])
	f.Add([]byte("OM5B\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeStored(data)
		if err != nil {
			if !errors.Is(err, ErrBadStored) {
				t.Fatalf("error %v does not wrap ErrBadStored", err)
			}
			return
		}
		if !bytes.Equal(s.Bytes(), data) || s.Expires.Sub(s.Issued) > MaxStoredLifetime {
			t.Fatal("a decoded envelope breaks its own bounds")
		}
		if _, err := s.Open(owner.ID()); err == nil && !bytes.Equal(data, b) {
			t.Fatal("an envelope other than the seed opened as the owner's")
		}
	})
}
