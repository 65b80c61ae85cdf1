package transporttest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
)

// Recorder is a transport.Host that records every packet and event it is
// given. Its zero value is ready to use, and it is safe for concurrent use.
// Deliver copies the packets it records, as the contract requires of a host.
//
// Hold makes Deliver block (until Release or the Deliver ctx is done) so a
// test can exercise a transport's backpressure.
type Recorder struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	packets []transport.Packet
	events  []transport.Event
	held    chan struct{} // non-nil while held; closed by Release
	blocked int           // Deliver calls currently blocked by Hold
}

var _ transport.Host = (*Recorder)(nil)

// notifyLocked wakes waiters; r.mu must be held.
func (r *Recorder) notifyLocked() {
	if r.changed != nil {
		close(r.changed)
	}
	r.changed = make(chan struct{})
}

// waitChan returns a channel closed at the next change; r.mu must be held.
func (r *Recorder) waitChanLocked() <-chan struct{} {
	if r.changed == nil {
		r.changed = make(chan struct{})
	}
	return r.changed
}

// Deliver implements transport.Host.
func (r *Recorder) Deliver(ctx context.Context, pkts []transport.Packet) error {
	r.mu.Lock()
	if held := r.held; held != nil {
		r.blocked++
		r.notifyLocked()
		r.mu.Unlock()
		var err error
		select {
		case <-held:
		case <-ctx.Done():
			err = ctx.Err()
		}
		r.mu.Lock()
		r.blocked--
		if err != nil {
			r.notifyLocked()
			r.mu.Unlock()
			return err
		}
	}
	for _, p := range pkts {
		r.packets = append(r.packets, transport.Packet{Addr: p.Addr, Data: slices.Clone(p.Data)})
	}
	r.notifyLocked()
	r.mu.Unlock()
	return nil
}

// Event implements transport.Host.
func (r *Recorder) Event(ev transport.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.notifyLocked()
	r.mu.Unlock()
}

// Hold makes later Deliver calls block until Release.
func (r *Recorder) Hold() {
	r.mu.Lock()
	if r.held == nil {
		r.held = make(chan struct{})
	}
	r.mu.Unlock()
}

// Release lets held and later Deliver calls through.
func (r *Recorder) Release() {
	r.mu.Lock()
	if r.held != nil {
		close(r.held)
		r.held = nil
	}
	r.mu.Unlock()
}

// Packets returns a copy of the packets recorded so far, in arrival order.
func (r *Recorder) Packets() []transport.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.packets)
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []transport.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Len reports how many packets have been recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.packets)
}

// Wait blocks until cond returns true or timeout passes, and reports
// whether cond became true. cond is called on every change with the packets
// and events recorded so far; it must not keep or modify the slices, nor
// call the Recorder.
func (r *Recorder) Wait(timeout time.Duration, cond func(packets []transport.Packet, events []transport.Event) bool) bool {
	return r.wait(timeout, func() bool { return cond(r.packets, r.events) })
}

// wait is Wait over the recorder's fields; cond runs with r.mu held.
func (r *Recorder) wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		ch := r.waitChanLocked()
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// WaitPackets waits until at least n packets are recorded and returns them;
// it fails t after timeout.
func (r *Recorder) WaitPackets(t testing.TB, n int, timeout time.Duration) []transport.Packet {
	t.Helper()
	if !r.wait(timeout, func() bool { return len(r.packets) >= n }) {
		t.Fatalf("transporttest: got %d packets, want %d within %v", r.Len(), n, timeout)
	}
	return r.Packets()
}

// WaitEvent waits for an event matching match and returns it; it fails t
// after timeout.
func (r *Recorder) WaitEvent(t testing.TB, timeout time.Duration, match func(transport.Event) bool) transport.Event {
	t.Helper()
	var found transport.Event
	ok := r.wait(timeout, func() bool {
		for _, ev := range r.events {
			if match(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("transporttest: no matching event within %v; events: %+v", timeout, r.Events())
	}
	return found
}

// WaitBlocked waits until at least one Deliver call is blocked by Hold; it
// fails t after timeout.
func (r *Recorder) WaitBlocked(t testing.TB, timeout time.Duration) {
	t.Helper()
	if !r.wait(timeout, func() bool { return r.blocked > 0 }) {
		t.Fatalf("transporttest: no Deliver call blocked within %v", timeout)
	}
}
