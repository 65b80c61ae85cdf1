package store

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The kill -9 test re-executes this test binary as a child that writes to a
// store in a loop and prints one line after every call that returned
// success; the parent SIGKILLs it mid-way and checks the store against what
// was printed.

const (
	killChildDir   = "ONEMFIVE_STORE_KILL_DIR"
	killChildRound = "ONEMFIVE_STORE_KILL_ROUND"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(killChildDir); dir != "" {
		os.Exit(runKillChild(dir, os.Getenv(killChildRound)))
	}
	os.Exit(m.Run())
}

func runKillChild(dir, round string) int {
	s, err := Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		_, _ = os.Stdout.WriteString(line) // one write(2) per line
		outMu.Unlock()
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	base := time.Unix(1_900_000_000, 0)
	// Four receivers race on the inbox (group commit); one producer works
	// the outbox.
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("r%s-%d-%d", round, w, i)
				seq, dup, err := s.Receive(id, "peer", []byte(id), base.Add(time.Duration(i)*time.Second))
				if err != nil {
					fail(err)
				}
				if dup {
					fail(fmt.Errorf("fresh id %s reported duplicate", id))
				}
				say("R %s %d", id, seq)
			}
		}()
	}
	for i := 0; ; i++ {
		id := fmt.Sprintf("o%s-%d", round, i)
		o := Outgoing{ID: id, Dest: "n", Data: []byte(id), Created: base, NextAttempt: base.Add(time.Duration(i) * time.Millisecond), Expires: base.Add(time.Hour)}
		if err := s.Enqueue(o); err != nil {
			fail(err)
		}
		say("E %s", id)
		switch i % 3 {
		case 0:
			if found, err := s.Ack(id); err != nil || !found {
				fail(fmt.Errorf("ack %s: %v %v", id, found, err))
			}
			say("A %s", id)
		case 1:
			if err := s.Reschedule(id, base.Add(time.Hour), 7); err != nil {
				fail(err)
			}
			say("S %s", id)
		}
	}
}

func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns subprocesses")
	}
	dir := t.TempDir()
	received := map[string]uint64{} // id -> seq reported
	enqueued := map[string]bool{}
	acked := map[string]bool{}
	rescheduled := map[string]bool{}
	for round := range 3 {
		lines := killChild(t, dir, round, 100+rand.IntN(400))
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 3 && f[0] == "R":
				seq, err := strconv.ParseUint(f[2], 10, 64)
				if err != nil {
					t.Fatalf("bad line %q", l)
				}
				received[f[1]] = seq
			case len(f) == 2 && f[0] == "E":
				enqueued[f[1]] = true
			case len(f) == 2 && f[0] == "A":
				acked[f[1]] = true
			case len(f) == 2 && f[0] == "S":
				rescheduled[f[1]] = true
			default:
				t.Fatalf("bad line %q", l)
			}
		}
		checkAfterKill(t, dir, received, enqueued, acked, rescheduled)
	}
	t.Logf("after 3 kills: %d receipts, %d enqueues, %d acks confirmed", len(received), len(enqueued), len(acked))
}

// killChild runs one child, SIGKILLs it after it has printed n lines, and
// returns every line it printed (including those still in the pipe).
func killChild(t *testing.T, dir string, round, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killChildDir+"="+dir, killChildRound+"="+strconv.Itoa(round))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	killed := false
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if !killed && len(lines) >= n {
			_ = cmd.Process.Kill() // SIGKILL
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before being killed after %d lines: %v\n%s", len(lines), err, stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("child did not die by signal: %v\n%s", err, stderr.String())
	}
	return lines
}

func checkAfterKill(t *testing.T, dir string, received map[string]uint64, enqueued, acked, rescheduled map[string]bool) {
	t.Helper()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()

	// Inbox: contiguous from 1, each item's id in the seen set with its seq.
	items, err := s.InboxSince(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	bySeq := map[uint64]string{}
	for i, it := range items {
		if it.Seq != uint64(i+1) {
			t.Fatalf("inbox seq %d at position %d: not contiguous", it.Seq, i)
		}
		bySeq[it.Seq] = it.ID
		v, err := s.get(key(prefixSeen, []byte(it.ID)))
		if err != nil {
			t.Fatalf("inbox item %d (%s) missing from seen set: %v", it.Seq, it.ID, err)
		}
		r, err := decodeSeen(v)
		if err != nil || r.Seq != it.Seq {
			t.Fatalf("seen record of %s = %+v, %v; want seq %d", it.ID, r, err, it.Seq)
		}
	}
	if s.LastSeq() != uint64(len(items)) {
		t.Fatalf("LastSeq %d with %d items", s.LastSeq(), len(items))
	}
	if n, _ := s.count(prefixSeen); n != len(items) {
		t.Fatalf("seen set has %d ids, inbox %d items", n, len(items))
	}
	if n, _ := s.count(prefixSeenAt); n != len(items) {
		t.Fatalf("seen time index has %d entries, inbox %d items", n, len(items))
	}
	for id, seq := range received {
		if bySeq[seq] != id {
			t.Fatalf("reported receipt %s seq %d: inbox has %q there", id, seq, bySeq[seq])
		}
	}

	// Outbox: confirmed enqueues are present unless acked, acks are gone,
	// reschedules stuck, and the indexes match the records.
	all, err := s.Due(maxTime, 0)
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]Outgoing{}
	for _, o := range all {
		present[o.ID] = o
	}
	for id := range enqueued {
		o, ok := present[id]
		switch {
		case acked[id] && ok:
			t.Fatalf("acked %s still in the outbox", id)
		case !acked[id] && !ok && !ackedByChild(id):
			t.Fatalf("confirmed enqueue %s lost", id)
		case rescheduled[id] && (o.Attempts != 7 || !ok):
			t.Fatalf("confirmed reschedule of %s lost: %+v", id, o)
		}
	}
	n, _ := s.OutboxLen()
	nd, _ := s.count(prefixDue)
	nx, _ := s.count(prefixExpiry)
	if n != len(all) || nd != n || nx != n {
		t.Fatalf("outbox %d records, due index %d, expiry index %d, Due saw %d", n, nd, nx, len(all))
	}
	if dups, _ := s.count(prefixOut); dups != n {
		t.Fatalf("OutboxLen %d, records %d", n, dups)
	}
}

// ackedByChild reports whether the child acks id right after enqueueing it
// (every third id), so the ack may have happened without being reported.
func ackedByChild(id string) bool {
	i := strings.LastIndexByte(id, '-')
	n, _ := strconv.Atoi(id[i+1:])
	return n%3 == 0
}
