package bustest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/bus"
)

// DefaultTimeout bounds the waits of this package when the caller passes 0.
const DefaultTimeout = 10 * time.Second

// Recorder collects the values its Handler receives, in the order handled.
type Recorder[T any] struct {
	mu     sync.Mutex
	vals   []T
	notify chan struct{}
	// Err, if set, is returned by Handler for a value (after recording it).
	Err func(v T) error
}

// NewRecorder returns an empty Recorder.
func NewRecorder[T any]() *Recorder[T] {
	return &Recorder[T]{notify: make(chan struct{})}
}

// Handler records v and returns r.Err(v) when Err is set.
func (r *Recorder[T]) Handler(_ context.Context, v T) error {
	r.mu.Lock()
	r.vals = append(r.vals, v)
	close(r.notify)
	r.notify = make(chan struct{})
	errf := r.Err
	r.mu.Unlock()
	if errf != nil {
		return errf(v)
	}
	return nil
}

// Values returns a copy of the recorded values.
func (r *Recorder[T]) Values() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.vals...)
}

// Len returns the number of recorded values.
func (r *Recorder[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.vals)
}

// WaitLen waits until at least n values are recorded and returns them; it
// fails tb after timeout (0 means DefaultTimeout).
func (r *Recorder[T]) WaitLen(tb testing.TB, n int, timeout time.Duration) []T {
	tb.Helper()
	deadline := time.NewTimer(orDefault(timeout))
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if len(r.vals) >= n {
			out := append([]T(nil), r.vals...)
			r.mu.Unlock()
			return out
		}
		ch, have := r.notify, len(r.vals)
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			tb.Fatalf("bustest: waited for %d recorded values, have %d", n, have)
			return nil
		}
	}
}

// NewRecordingStage builds and starts a stage whose handler is a new
// Recorder, and stops it when the test ends.
func NewRecordingStage[T any](tb testing.TB, name string, opts bus.StageOptions) (*bus.Stage[T], *Recorder[T]) {
	tb.Helper()
	r := NewRecorder[T]()
	s := bus.NewStage(name, opts, r.Handler)
	StartStage(tb, s)
	return s, r
}

// Starter is the part of a stage that StartStage needs.
type Starter interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// StartStage starts s and registers a cleanup that stops it, failing tb if
// Stop does not finish within DefaultTimeout.
func StartStage(tb testing.TB, s Starter) {
	tb.Helper()
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("bustest: start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			tb.Errorf("bustest: stop: %v", err)
		}
	})
}

// WaitStats polls s until cond holds for its stats and returns them; it fails
// tb after timeout (0 means DefaultTimeout).
func WaitStats(tb testing.TB, s bus.Statser, timeout time.Duration, cond func(bus.StageStats) bool) bus.StageStats {
	tb.Helper()
	deadline := time.Now().Add(orDefault(timeout))
	for {
		st := s.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			tb.Fatalf("bustest: stage %q: condition not met; last stats %+v", st.Name, st)
			return st
		}
		time.Sleep(time.Millisecond)
	}
}

// WaitHandled waits until Processed+Failed of s reaches n.
func WaitHandled(tb testing.TB, s bus.Statser, n uint64, timeout time.Duration) bus.StageStats {
	tb.Helper()
	return WaitStats(tb, s, timeout, func(st bus.StageStats) bool { return st.Processed+st.Failed >= n })
}

// WaitIdle waits until s has an empty queue and every accepted value has
// been handled or dropped.
func WaitIdle(tb testing.TB, s bus.Statser, timeout time.Duration) bus.StageStats {
	tb.Helper()
	return WaitStats(tb, s, timeout, func(st bus.StageStats) bool {
		return st.Depth == 0 && st.Submitted == st.Processed+st.Failed+st.Dropped
	})
}

// Gate holds handlers that call Wait until Open is called; Entered reports
// how many are waiting or have passed. The zero value is not usable; use
// NewGate.
type Gate struct {
	open    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	entered int
	notify  chan struct{}
}

// NewGate returns a closed gate.
func NewGate() *Gate {
	return &Gate{open: make(chan struct{}), notify: make(chan struct{})}
}

// Wait blocks until the gate opens or ctx ends.
func (g *Gate) Wait(ctx context.Context) error {
	g.mu.Lock()
	g.entered++
	close(g.notify)
	g.notify = make(chan struct{})
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Open releases every current and future waiter. It is idempotent.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

// WaitEntered waits until at least n callers have entered Wait.
func (g *Gate) WaitEntered(tb testing.TB, n int, timeout time.Duration) {
	tb.Helper()
	deadline := time.NewTimer(orDefault(timeout))
	defer deadline.Stop()
	for {
		g.mu.Lock()
		got, ch := g.entered, g.notify
		g.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			tb.Fatalf("bustest: waited for %d callers at the gate, have %d", n, got)
			return
		}
	}
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}
