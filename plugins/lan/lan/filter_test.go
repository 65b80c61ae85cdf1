package lan

import (
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

func TestFilterRateLimit(t *testing.T) {
	f := newFilter(2, 3)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if !f.allow("10.0.0.1", now) {
			t.Fatalf("burst %d refused", i)
		}
	}
	if f.allow("10.0.0.1", now) {
		t.Fatal("past the burst allowed")
	}
	if !f.allow("10.0.0.2", now) {
		t.Fatal("another source limited")
	}
	if !f.allow("10.0.0.1", now.Add(500*time.Millisecond)) {
		t.Fatal("refilled token refused")
	}
	if f.allow("10.0.0.1", now.Add(500*time.Millisecond)) {
		t.Fatal("more than refilled allowed")
	}
}

func TestFilterSourcesBounded(t *testing.T) {
	f := newFilter(1, 1)
	now := time.Unix(1000, 0)
	for i := range maxSources {
		f.allow(string(rune(i+1)), now)
	}
	if f.allow("new", now) {
		t.Fatal("new source allowed while every bucket is busy")
	}
	if !f.allow("new", now.Add(2*time.Second)) {
		t.Fatal("new source refused after old buckets refilled")
	}
	if len(f.sources) > maxSources {
		t.Fatalf("%d sources kept", len(f.sources))
	}
}

func TestFilterFreshness(t *testing.T) {
	f := newFilter(1, 1)
	now := time.Unix(1000, 0)
	issued := time.Unix(900, 0)
	rec := &node.Record{ID: "n1", Issued: issued}
	h := func(seq uint64, r *node.Record) heard { return heard{seq: seq, rec: r, addr: "a"} }
	steps := []struct {
		h    heard
		want verdict
	}{
		{h(10, rec), fresh},
		{h(10, rec), replay}, // the broadcast copy of the same frame
		{h(9, rec), replay},
		{h(11, rec), alive},
		{h(5, &node.Record{ID: "n1", Issued: issued.Add(time.Second)}), fresh}, // newer record, any seq
		{h(100, rec), replay}, // the old record again, even with a higher seq
		{h(1, &node.Record{ID: "n2", Issued: issued}), fresh},
	}
	for i, s := range steps {
		if got := f.admit(s.h, now); got != s.want {
			t.Fatalf("step %d: %v, want %v", i, got, s.want)
		}
	}
	if f.seen() != 2 {
		t.Fatalf("seen %d", f.seen())
	}
	if lost := f.sweep(now.Add(time.Second), 2*time.Second); len(lost) != 0 {
		t.Fatalf("lost too early: %v", lost)
	}
	lost := f.sweep(now.Add(3*time.Second), 2*time.Second)
	if len(lost) != 2 || f.seen() != 0 {
		t.Fatalf("lost %v, seen %d", lost, f.seen())
	}
	// Back after being lost: reported again.
	if got := f.admit(h(12, rec), now.Add(4*time.Second)); got != fresh {
		t.Fatalf("returning peer: %v", got)
	}
}
