package store

import (
	"errors"
	"testing"
	"time"
)

func TestReplyKeys(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReplyKeys(s)
	now := time.Now()
	ids := [][]byte{[]byte("0123456789abcdef"), []byte("fedcba9876543210"), []byte("expires-early---")}
	for i, id := range ids {
		exp := now.Add(time.Hour)
		if i == 2 {
			exp = now.Add(time.Minute)
		}
		if err := r.Put(id, exp, []byte{byte(i), 'v'}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := r.Take(ids[0], now)
	if err != nil || string(v) != "\x00v" {
		t.Fatalf("Take = %q, %v", v, err)
	}
	if _, err := r.Take(ids[0], now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Take: %v, want ErrNotFound", err)
	}
	// Kept across a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r = NewReplyKeys(s)
	if n, err := r.Len(); err != nil || n != 2 {
		t.Fatalf("after reopening: %d keys (%v), want 2", n, err)
	}
	// Two minutes on, the early one has expired: Take refuses it, Prune
	// removes it and nothing else.
	later := now.Add(2 * time.Minute)
	if n, err := r.Prune(later); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1", n, err)
	}
	if _, err := r.Take(ids[2], later); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pruned key: %v", err)
	}
	if err := r.Put(ids[2], now.Add(time.Minute), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Take(ids[2], later); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Take of an expired key: %v, want ErrNotFound", err)
	}
	if v, err := r.Take(ids[1], later); err != nil || string(v) != "\x01v" {
		t.Fatalf("Take = %q, %v", v, err)
	}
	if n, _ := r.Len(); n != 0 {
		t.Fatalf("%d keys left", n)
	}
	for _, bad := range [][]byte{nil, make([]byte, 65)} {
		if err := r.Put(bad, now, nil); err == nil {
			t.Errorf("Put with a %d-byte id accepted", len(bad))
		}
	}
}
