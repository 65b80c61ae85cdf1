package store

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func tagOf(s string) [ReplayTagSize]byte { return sha256.Sum256([]byte(s)) }

func TestReplayCacheSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc := NewReplayCache(s)
	for _, c := range []struct {
		epoch uint64
		tag   string
		seen  bool
	}{
		{7, "a", false}, {7, "a", true}, {7, "b", false},
		{8, "a", false}, // the same tag under another epoch's key is another packet
		{8, "a", true},
	} {
		seen, err := rc.SeenTag(c.epoch, tagOf(c.tag))
		if err != nil || seen != c.seen {
			t.Fatalf("SeenTag(%d, %s) = %v, %v; want %v", c.epoch, c.tag, seen, err, c.seen)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openT(t, dir)
	rc2 := NewReplayCache(s2)
	for _, c := range []struct {
		epoch uint64
		tag   string
	}{{7, "a"}, {7, "b"}, {8, "a"}} {
		seen, err := rc2.SeenTag(c.epoch, tagOf(c.tag))
		if err != nil || !seen {
			t.Fatalf("after restart SeenTag(%d, %s) = %v, %v; want a replay", c.epoch, c.tag, seen, err)
		}
	}
	if seen, err := rc2.SeenTag(7, tagOf("c")); err != nil || seen {
		t.Fatalf("new tag after restart: %v %v", seen, err)
	}
}

func TestReplayCacheConcurrentCopies(t *testing.T) {
	rc := NewReplayCache(openT(t, t.TempDir()))
	const copies, tags = 8, 20
	var fresh [tags]atomic.Int32
	var wg sync.WaitGroup
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range tags {
				seen, err := rc.SeenTag(1, tagOf(fmt.Sprint(i)))
				if err != nil {
					t.Error(err)
					return
				}
				if !seen {
					fresh[i].Add(1)
				}
			}
		}()
	}
	wg.Wait()
	for i := range fresh {
		if n := fresh[i].Load(); n != 1 {
			t.Errorf("tag %d accepted %d times, want exactly once", i, n)
		}
	}
}

func TestReplayCachePrune(t *testing.T) {
	s := openT(t, t.TempDir())
	rc := NewReplayCache(s)
	for e := uint64(0); e < 5; e++ {
		for i := range int(e) + 1 {
			if _, err := rc.SeenTag(e, tagOf(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := rc.SeenTag(^uint64(0), tagOf("max")); err != nil {
		t.Fatal(err)
	}
	// Other prefixes are untouched by a prune.
	if err := s.Put("keep", []byte("me")); err != nil {
		t.Fatal(err)
	}
	n, err := rc.PruneEpochsBefore(3)
	if err != nil || n != 1+2+3 {
		t.Fatalf("pruned %d, %v; want 6", n, err)
	}
	for e, want := range map[uint64]int{0: 0, 2: 0, 3: 4, 4: 5, ^uint64(0): 1} {
		if got, err := rc.ReplayTags(e); err != nil || got != want {
			t.Errorf("epoch %d holds %d tags (%v), want %d", e, got, err, want)
		}
	}
	if seen, _ := rc.SeenTag(2, tagOf("0")); seen {
		t.Fatal("pruned tag still seen")
	}
	if seen, _ := rc.SeenTag(3, tagOf("0")); !seen {
		t.Fatal("kept tag forgotten")
	}
	if n, err := rc.PruneEpochsBefore(0); err != nil || n != 0 {
		t.Fatalf("empty prune: %d %v", n, err)
	}
	if v, err := s.Get("keep"); err != nil || string(v) != "me" {
		t.Fatalf("meta lost: %q %v", v, err)
	}
}

// BenchmarkSeenTagParallel measures fresh tags recorded by concurrent
// callers; each call is a synced commit, shared through Pebble's commit
// pipeline.
func BenchmarkSeenTagParallel(b *testing.B) {
	rc := NewReplayCache(openT(b, b.TempDir()))
	var n atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if seen, err := rc.SeenTag(1, tagOf(fmt.Sprint(n.Add(1)))); err != nil || seen {
				b.Error(seen, err)
				return
			}
		}
	})
}
