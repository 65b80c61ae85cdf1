package sdk

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWatchdogParentChange(t *testing.T) {
	ppid := 100
	w := newWatchdog(func() int { return ppid }, func(int) bool { return true }, "")
	if why := w.check(); why != "" {
		t.Fatalf("fresh watchdog fired: %s", why)
	}
	ppid = 1 // re-parented to init: the host died
	if why := w.check(); !strings.Contains(why, "from 100 to 1") {
		t.Fatalf("got %q", why)
	}
}

func TestWatchdogHostPID(t *testing.T) {
	alive := true
	var asked int
	w := newWatchdog(func() int { return 7 }, func(pid int) bool { asked = pid; return alive }, "4242")
	if why := w.check(); why != "" || asked != 4242 {
		t.Fatalf("fired %q, asked %d", why, asked)
	}
	alive = false
	if why := w.check(); !strings.Contains(why, "4242") || !strings.Contains(why, ParentPIDEnv) {
		t.Fatalf("got %q", why)
	}
}

func TestWatchdogIgnoresBadEnv(t *testing.T) {
	for _, v := range []string{"abc", "-3", "0"} {
		w := newWatchdog(func() int { return 7 }, func(int) bool { return false }, v)
		if why := w.check(); why != "" || w.badValue != v {
			t.Fatalf("%q: fired %q, badValue %q", v, why, w.badValue)
		}
	}
}

func TestWatchdogRunCallsGoneOnce(t *testing.T) {
	var ppid atomic.Int64
	ppid.Store(50)
	w := newWatchdog(func() int { return int(ppid.Load()) }, func(int) bool { return true }, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gone := make(chan string, 2)
	done := make(chan struct{})
	go func() {
		w.run(ctx, time.Millisecond, func(why string) { gone <- why })
		close(done)
	}()
	ppid.Store(51)
	if why := <-gone; !strings.Contains(why, "51") {
		t.Fatalf("got %q", why)
	}
	<-done
	if len(gone) != 0 {
		t.Fatal("gone called twice")
	}

	// Cancelled before anything happens: returns without calling gone.
	w2 := newWatchdog(func() int { return 1 }, func(int) bool { return true }, "")
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	w2.run(ctx2, time.Hour, func(string) { t.Error("gone called") })
}
