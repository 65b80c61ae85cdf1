package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func openT(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)

func TestOutbox(t *testing.T) {
	s := openT(t, t.TempDir())
	mk := func(id string, next time.Duration, exp time.Duration) Outgoing {
		o := Outgoing{ID: id, Dest: "node-" + id, Data: []byte("sealed " + id), Created: t0, NextAttempt: t0.Add(next)}
		if exp != 0 {
			o.Expires = t0.Add(exp)
		}
		return o
	}
	for _, o := range []Outgoing{mk("c", 3*time.Second, 0), mk("a", time.Second, time.Minute), mk("b", 2*time.Second, 5*time.Second), mk("z", time.Hour, 0)} {
		if err := s.Enqueue(o); err != nil {
			t.Fatal(err)
		}
	}
	// Idempotent: the same ID with other contents changes nothing.
	dup := mk("a", 0, 0)
	dup.Data = []byte("other")
	if err := s.Enqueue(dup); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.OutboxLen(); n != 4 {
		t.Fatalf("OutboxLen = %d, want 4", n)
	}

	due, err := s.Due(t0.Add(3*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ids := outIDs(due); ids != "a,b,c" {
		t.Fatalf("Due = %s, want a,b,c", ids)
	}
	if string(due[0].Data) != "sealed a" || due[0].Dest != "node-a" || !due[0].Created.Equal(t0) || !due[0].Expires.Equal(t0.Add(time.Minute)) {
		t.Fatalf("record a = %+v", due[0])
	}
	if due, _ := s.Due(t0.Add(3*time.Second), 2); outIDs(due) != "a,b" {
		t.Fatalf("Due with limit = %s", outIDs(due))
	}
	if due, _ := s.Due(t0, 0); len(due) != 0 {
		t.Fatalf("Due before anything is due = %s", outIDs(due))
	}

	// Reschedule moves a record in the due order.
	if err := s.Reschedule("a", t0.Add(10*time.Second), 1); err != nil {
		t.Fatal(err)
	}
	due, _ = s.Due(t0.Add(10*time.Second), 0)
	if outIDs(due) != "b,c,a" || due[2].Attempts != 1 {
		t.Fatalf("Due after reschedule = %s %+v", outIDs(due), due)
	}
	if err := s.Reschedule("nope", t0, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Reschedule missing = %v", err)
	}

	// Ack.
	if found, err := s.Ack("c"); !found || err != nil {
		t.Fatalf("Ack c = %v, %v", found, err)
	}
	if found, err := s.Ack("c"); found || err != nil {
		t.Fatalf("second Ack c = %v, %v", found, err)
	}
	due, _ = s.Due(t0.Add(10*time.Second), 0)
	if outIDs(due) != "b,a" {
		t.Fatalf("Due after ack = %s", outIDs(due))
	}

	// DropExpired: b expires at +5s, a at +1m, z never.
	dropped, err := s.DropExpired(t0.Add(5 * time.Second))
	if err != nil || outIDs(dropped) != "b" {
		t.Fatalf("DropExpired = %s, %v", outIDs(dropped), err)
	}
	if n, _ := s.OutboxLen(); n != 2 {
		t.Fatalf("OutboxLen = %d, want 2", n)
	}
	if due, _ := s.Due(t0.Add(24*time.Hour), 0); outIDs(due) != "a,z" {
		t.Fatalf("Due all = %s", outIDs(due))
	}
	// A zero NextAttempt is due at once; the record keeps zero times.
	if err := s.Enqueue(Outgoing{ID: "now", Dest: "d"}); err != nil {
		t.Fatal(err)
	}
	due, _ = s.Due(time.Unix(0, 0), 0)
	if outIDs(due) != "now" || !due[0].NextAttempt.IsZero() || !due[0].Expires.IsZero() {
		t.Fatalf("zero NextAttempt: %+v", due)
	}
	if err := s.Enqueue(Outgoing{}); err == nil {
		t.Fatal("Enqueue with empty id succeeded")
	}
}

func outIDs(os []Outgoing) string {
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.ID
	}
	return strings.Join(ids, ",")
}

func TestInbox(t *testing.T) {
	s := openT(t, t.TempDir())
	for i, id := range []string{"m1", "m2", "m3"} {
		seq, dup, err := s.Receive(id, "from-"+id, []byte("data "+id), t0.Add(time.Duration(i)*time.Minute))
		if err != nil || dup || seq != uint64(i+1) {
			t.Fatalf("Receive %s = %d, %v, %v", id, seq, dup, err)
		}
	}
	seq, dup, err := s.Receive("m2", "x", []byte("again"), t0.Add(time.Hour))
	if err != nil || !dup || seq != 2 {
		t.Fatalf("duplicate Receive = %d, %v, %v", seq, dup, err)
	}
	if s.LastSeq() != 3 {
		t.Fatalf("LastSeq = %d", s.LastSeq())
	}
	items, err := s.InboxSince(1, 0)
	if err != nil || len(items) != 2 {
		t.Fatalf("InboxSince(1) = %d items, %v", len(items), err)
	}
	if it := items[0]; it.Seq != 2 || it.ID != "m2" || it.From != "from-m2" || string(it.Data) != "data m2" || !it.Received.Equal(t0.Add(time.Minute)) {
		t.Fatalf("item = %+v", it)
	}
	if items, _ := s.InboxSince(0, 1); len(items) != 1 || items[0].Seq != 1 {
		t.Fatalf("InboxSince(0, 1) = %+v", items)
	}
	if items, _ := s.InboxSince(^uint64(0), 0); len(items) != 0 {
		t.Fatal("InboxSince(max) returned items")
	}

	// PruneSeen forgets m1 (received at t0) only.
	n, err := s.PruneSeen(t0.Add(30 * time.Second))
	if err != nil || n != 1 {
		t.Fatalf("PruneSeen = %d, %v", n, err)
	}
	if seq, dup, _ := s.Receive("m2", "", nil, t0); !dup || seq != 2 {
		t.Fatal("m2 forgotten by PruneSeen")
	}
	if seq, dup, _ := s.Receive("m1", "", nil, t0.Add(2*time.Hour)); dup || seq != 4 {
		t.Fatalf("pruned m1 received again = %d, %v", seq, dup)
	}

	// TrimInbox deletes a prefix; sequence numbers continue.
	if n, err := s.TrimInbox(2); err != nil || n != 2 {
		t.Fatalf("TrimInbox = %d, %v", n, err)
	}
	if items, _ := s.InboxSince(0, 0); len(items) != 2 || items[0].Seq != 3 {
		t.Fatalf("after trim: %+v", items)
	}
	if _, _, err := s.Receive("", "", nil, t0); err == nil {
		t.Fatal("Receive with empty id succeeded")
	}
}

func TestInboxConcurrent(t *testing.T) {
	s := openT(t, t.TempDir())
	const workers, per = 4, 25
	var wg sync.WaitGroup
	seqs := make(chan uint64, workers*per*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				// Every id is received twice, by two different workers.
				for _, id := range []string{fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("w%d-%d", (w+1)%workers, i)} {
					seq, dup, err := s.Receive(id, "", nil, t0)
					if err != nil {
						t.Error(err)
						return
					}
					if !dup {
						seqs <- seq
					}
				}
			}
		}()
	}
	wg.Wait()
	close(seqs)
	got := map[uint64]bool{}
	for q := range seqs {
		if got[q] {
			t.Fatalf("seq %d given twice", q)
		}
		got[q] = true
	}
	if len(got) != workers*per || s.LastSeq() != workers*per {
		t.Fatalf("%d new receipts, LastSeq %d; want %d", len(got), s.LastSeq(), workers*per)
	}
}

func TestPeersAndMeta(t *testing.T) {
	s := openT(t, t.TempDir())
	if _, err := s.Peer("p1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Peer missing = %v", err)
	}
	if _, err := s.Get("k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing = %v", err)
	}
	must(t, s.PutPeer("p1", []byte("r1")))
	must(t, s.PutPeer("p2", []byte("r2")))
	must(t, s.PutPeer("p1", []byte("r1b")))
	must(t, s.PutPeer("p3", nil))
	if v, err := s.Peer("p1"); err != nil || string(v) != "r1b" {
		t.Fatalf("Peer p1 = %q, %v", v, err)
	}
	must(t, s.DeletePeer("p2"))
	ps, err := s.Peers()
	if err != nil || len(ps) != 2 || string(ps["p1"]) != "r1b" || ps["p3"] == nil || len(ps["p3"]) != 0 {
		t.Fatalf("Peers = %q, %v", ps, err)
	}
	must(t, s.Put("node-key", []byte{1, 2, 3}))
	if v, err := s.Get("node-key"); err != nil || !bytes.Equal(v, []byte{1, 2, 3}) {
		t.Fatalf("Get = %v, %v", v, err)
	}
	// Meta and peers live in separate key spaces.
	if _, err := s.Get("p1"); !errors.Is(err, ErrNotFound) {
		t.Fatal("meta sees peer keys")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRestartPersistence(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	must(t, s.Enqueue(Outgoing{ID: "o1", Dest: "n", Data: []byte("x"), NextAttempt: t0, Expires: t0.Add(time.Hour)}))
	must(t, s.Enqueue(Outgoing{ID: "o2", Dest: "n", NextAttempt: t0}))
	_, _ = s.Ack("o2")
	for _, id := range []string{"a", "b", "c"} {
		if _, _, err := s.Receive(id, "f", []byte(id), t0); err != nil {
			t.Fatal(err)
		}
	}
	must(t, s.PutPeer("p", []byte("rec")))
	must(t, s.Put("k", []byte("v")))
	must(t, s.Close())
	must(t, s.Close()) // idempotent

	s = openT(t, dir)
	if n, _ := s.OutboxLen(); n != 1 {
		t.Fatalf("OutboxLen after reopen = %d", n)
	}
	if due, _ := s.Due(t0, 0); outIDs(due) != "o1" || string(due[0].Data) != "x" {
		t.Fatalf("Due after reopen = %+v", due)
	}
	if dropped, _ := s.DropExpired(t0.Add(time.Hour)); outIDs(dropped) != "o1" {
		t.Fatal("expiry index lost across reopen")
	}
	if s.LastSeq() != 3 {
		t.Fatalf("LastSeq after reopen = %d", s.LastSeq())
	}
	if _, dup, _ := s.Receive("b", "", nil, t0); !dup {
		t.Fatal("seen set lost across reopen")
	}
	if seq, _, _ := s.Receive("d", "", nil, t0); seq != 4 {
		t.Fatalf("seq after reopen = %d, want 4", seq)
	}
	// Trimming everything must not reset the counter after a reopen.
	if _, err := s.TrimInbox(^uint64(0)); err != nil {
		t.Fatal(err)
	}
	must(t, s.Close())
	s = openT(t, dir)
	if seq, _, _ := s.Receive("e", "", nil, t0); seq != 5 {
		t.Fatalf("seq after trim and reopen = %d, want 5", seq)
	}
	if v, err := s.Peer("p"); err != nil || string(v) != "rec" {
		t.Fatal("peer lost across reopen")
	}
	if v, err := s.Get("k"); err != nil || string(v) != "v" {
		t.Fatal("meta lost across reopen")
	}
}

// TestCorruptRecords writes bad bytes under the store's own keys and checks
// that reads fail with an error naming the key instead of panicking.
func TestCorruptRecords(t *testing.T) {
	s := openT(t, t.TempDir())
	must(t, s.Enqueue(Outgoing{ID: "good", NextAttempt: t0}))
	must(t, s.Enqueue(Outgoing{ID: "bad", NextAttempt: t0}))
	must(t, s.putSync(key(prefixOut, []byte("bad")), []byte{1, 200}))
	_, err := s.Due(t0, 0)
	if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), `o/bad`) {
		t.Fatalf("Due over corrupt record = %v", err)
	}
	if _, err := s.Ack("bad"); err == nil || !strings.Contains(err.Error(), "o/bad") {
		t.Fatalf("Ack of corrupt record = %v", err)
	}
	// A record under the wrong key.
	must(t, s.putSync(key(prefixOut, []byte("bad")), encodeOutgoing(&Outgoing{ID: "other"})))
	if err := s.Reschedule("bad", t0, 1); !errors.Is(err, errCorrupt) {
		t.Fatalf("Reschedule of misfiled record = %v", err)
	}

	if _, _, err := s.Receive("m", "", nil, t0); err != nil {
		t.Fatal(err)
	}
	must(t, s.putSync(seqKey(1), []byte{9}))
	if _, err := s.InboxSince(0, 0); !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), `i/`) {
		t.Fatalf("InboxSince over corrupt item = %v", err)
	}
	must(t, s.putSync(key(prefixSeen, []byte("m")), []byte{}))
	if _, _, err := s.Receive("m", "", nil, t0); !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "s/m") {
		t.Fatalf("Receive over corrupt seen record = %v", err)
	}
}

func TestOpenCorruptCounter(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	must(t, s.putSync(keyInboxSeq, []byte{1, 2}))
	must(t, s.Close())
	if _, err := Open(dir, nil); !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "c/inbox-seq") {
		t.Fatalf("Open with corrupt counter = %v", err)
	}
}
