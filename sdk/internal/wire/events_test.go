package wire

import (
	"os"
	"testing"

	"github.com/onemfive/onemfive/sdk/transport"
)

func errDeadline() error { return os.ErrDeadlineExceeded }

func TestEventQueueDropsProgressNotBlocked(t *testing.T) {
	q := newEventQueue()
	q.push(transport.Event{State: transport.StateBlocked, Reason: "reset"})
	q.push(transport.Event{State: transport.StateReady, Phase: "ready"})
	for i := range eventSoftCap + 50 {
		q.push(transport.Event{State: transport.StateStarting, Progress: i})
	}
	evs, dropped, done := q.take()
	if done {
		t.Fatal("open queue reported done")
	}
	if len(evs) != eventSoftCap || dropped != 52 {
		t.Fatalf("kept %d dropped %d, want %d and 52", len(evs), dropped, eventSoftCap)
	}
	if evs[0].State != transport.StateBlocked || evs[0].Reason != "reset" || evs[1].Phase != "ready" {
		t.Fatalf("critical or non-progress event dropped first: %+v", evs[:2])
	}
	if last := evs[len(evs)-1]; last.Progress != eventSoftCap+49 {
		t.Fatalf("newest progress lost: %+v", last)
	}
	// Only critical events: they are kept past the soft cap, and
	// non-critical newcomers are the ones dropped.
	for range eventSoftCap + 10 {
		q.push(transport.Event{State: transport.StateFailed})
	}
	q.push(transport.Event{State: transport.StateStarting})
	evs, dropped, _ = q.take()
	if len(evs) != eventSoftCap+10 || dropped != 53 {
		t.Fatalf("kept %d dropped %d", len(evs), dropped)
	}
	q.push(transport.Event{State: transport.StateReady})
	q.close()
	q.push(transport.Event{State: transport.StateReady})
	if evs, _, done := q.take(); len(evs) != 1 || done {
		t.Fatalf("close lost buffered events: %d %v", len(evs), done)
	}
	if _, _, done := q.take(); !done {
		t.Fatal("closed empty queue not done")
	}
}
