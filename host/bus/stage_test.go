package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/onemfive/onemfive/host/bus"
	"github.com/onemfive/onemfive/host/bus/bustest"
)

func TestOrderingOneWorker(t *testing.T) {
	s, rec := bustest.NewRecordingStage[int](t, "order", bus.StageOptions{QueueSize: 16, Workers: 1})
	const n = 5000
	ctx := context.Background()
	for i := range n {
		if err := s.Submit(ctx, i); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	// A batch keeps the same order after the single submits.
	batch := []int{n, n + 1, n + 2}
	if got, err := s.SubmitBatch(ctx, batch); err != nil || got != len(batch) {
		t.Fatalf("SubmitBatch = %d, %v", got, err)
	}
	vals := rec.WaitLen(t, n+len(batch), 0)
	for i, v := range vals {
		if v != i {
			t.Fatalf("value %d handled at position %d", v, i)
		}
	}
	st := bustest.WaitIdle(t, s, 0)
	if st.Submitted != n+3 || st.Processed != n+3 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestManyWorkersHandleEverything(t *testing.T) {
	s, rec := bustest.NewRecordingStage[int](t, "many", bus.StageOptions{QueueSize: 8, Workers: 4})
	ctx := context.Background()
	const n = 2000
	for i := range n {
		if err := s.Submit(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	vals := rec.WaitLen(t, n, 0)
	seen := make([]bool, n)
	for _, v := range vals {
		if seen[v] {
			t.Fatalf("value %d handled twice", v)
		}
		seen[v] = true
	}
}

func TestBackpressure(t *testing.T) {
	gate := bustest.NewGate()
	var handled atomic.Int64
	s := bus.NewStage("bp", bus.StageOptions{QueueSize: 2, Workers: 1}, func(ctx context.Context, v int) error {
		if v == 0 {
			if err := gate.Wait(ctx); err != nil {
				return err
			}
		}
		handled.Add(1)
		return nil
	})
	bustest.StartStage(t, s)
	ctx := context.Background()

	if err := s.Submit(ctx, 0); err != nil {
		t.Fatal(err)
	}
	gate.WaitEntered(t, 1, 0) // the worker holds value 0
	for _, v := range []int{1, 2} {
		if err := s.Submit(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TrySubmit(3); !errors.Is(err, bus.ErrFull) {
		t.Fatalf("TrySubmit on full queue = %v, want ErrFull", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := s.Submit(cctx, 3)
	if !errors.Is(err, bus.ErrFull) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit with done ctx on full queue = %v, want ErrFull and Canceled", err)
	}

	blocked := make(chan error, 1)
	go func() { blocked <- s.Submit(ctx, 4) }()
	// Nothing can free a slot while the gate is closed.
	bustest.WaitStats(t, s, 0, func(st bus.StageStats) bool { return st.Depth == 2 })
	select {
	case err := <-blocked:
		t.Fatalf("Submit on full queue returned %v before the handler drained", err)
	default:
	}
	gate.Open()
	if err := <-blocked; err != nil {
		t.Fatalf("blocked Submit = %v after drain", err)
	}
	st := bustest.WaitIdle(t, s, 0)
	if st.Processed != 4 || st.Rejected != 2 || st.Submitted != 4 || st.HighWater != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStopDrains(t *testing.T) {
	gate := bustest.NewGate()
	rec := bustest.NewRecorder[int]()
	s := bus.NewStage("drain", bus.StageOptions{QueueSize: 100, Workers: 2}, func(ctx context.Context, v int) error {
		if err := gate.Wait(ctx); err != nil {
			return err
		}
		return rec.Handler(ctx, v)
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := s.TrySubmit(i); err != nil {
			t.Fatal(err)
		}
	}
	gate.WaitEntered(t, 2, 0)
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	bustest.WaitStats(t, s, 0, func(st bus.StageStats) bool { return !st.Running })
	if err := s.Submit(context.Background(), 99); !errors.Is(err, bus.ErrStopped) {
		t.Fatalf("Submit after Stop = %v, want ErrStopped", err)
	}
	gate.Open()
	if err := <-stopped; err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if rec.Len() != 50 {
		t.Fatalf("handled %d of 50 queued values", rec.Len())
	}
	if err := s.TrySubmit(1); !errors.Is(err, bus.ErrStopped) {
		t.Fatalf("TrySubmit after Stop = %v", err)
	}
	if n, err := s.SubmitBatch(context.Background(), []int{1}); n != 0 || !errors.Is(err, bus.ErrStopped) {
		t.Fatalf("SubmitBatch after Stop = %d, %v", n, err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop = %v", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, bus.ErrStopped) {
		t.Fatalf("Start after Stop = %v", err)
	}
}

func TestStopReleasesBlockedSubmit(t *testing.T) {
	gate := bustest.NewGate()
	s := bus.NewStage("release", bus.StageOptions{QueueSize: 1}, func(ctx context.Context, v int) error {
		return gate.Wait(ctx)
	})
	bustest.StartStage(t, s)
	ctx := context.Background()
	_ = s.Submit(ctx, 0)
	gate.WaitEntered(t, 1, 0)
	_ = s.Submit(ctx, 1) // fills the queue
	blocked := make(chan error, 1)
	go func() { blocked <- s.Submit(ctx, 2) }()
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(ctx) }()
	if err := <-blocked; !errors.Is(err, bus.ErrStopped) {
		t.Fatalf("blocked Submit during Stop = %v, want ErrStopped", err)
	}
	gate.Open()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Processed != 2 || st.Submitted != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStopTimeoutDropsAndCancels(t *testing.T) {
	gate := bustest.NewGate()
	s := bus.NewStage("timeout", bus.StageOptions{QueueSize: 10}, func(ctx context.Context, v int) error {
		return gate.Wait(ctx) // returns when Stop cancels the handler ctx
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_ = s.TrySubmit(i)
	}
	gate.WaitEntered(t, 1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop with done ctx = %v, want Canceled", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after timeout = %v", err)
	}
	st := s.Stats()
	if st.Failed != 1 || st.Dropped != 4 || st.Submitted != 5 || st.Depth != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStopBeforeStart(t *testing.T) {
	s := bus.NewStage("idle", bus.StageOptions{QueueSize: 4}, func(context.Context, int) error { return nil })
	for i := range 3 {
		if err := s.TrySubmit(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Dropped != 3 || st.Processed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStartTwice(t *testing.T) {
	s := bus.NewStage("twice", bus.StageOptions{}, func(context.Context, int) error { return nil })
	bustest.StartStage(t, s)
	if err := s.Start(context.Background()); err == nil {
		t.Fatal("second Start succeeded")
	}
}

func TestPanicRecovered(t *testing.T) {
	var mu sync.Mutex
	var reported []error
	s := bus.NewStage("panicky", bus.StageOptions{
		QueueSize: 4,
		OnError: func(stage string, v any, err error) {
			mu.Lock()
			reported = append(reported, fmt.Errorf("%s %v: %w", stage, v, err))
			mu.Unlock()
		},
	}, func(_ context.Context, v int) error {
		switch {
		case v%3 == 0:
			panic(fmt.Sprintf("boom %d", v))
		case v%3 == 1:
			return errors.New("plain failure")
		}
		return nil
	})
	bustest.StartStage(t, s)
	for i := range 9 {
		if err := s.Submit(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	st := bustest.WaitHandled(t, s, 9, 0)
	if st.Failed != 6 || st.Processed != 3 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	panics := 0
	for _, err := range reported {
		if errors.Is(err, bus.ErrPanic) {
			panics++
		}
	}
	if len(reported) != 6 || panics != 3 {
		t.Fatalf("OnError got %d errors, %d panics: %v", len(reported), panics, reported)
	}
}

// TestConcurrentSubmitAndStop checks that every value whose Submit returned
// nil is handled, even when Stop races with many producers.
func TestConcurrentSubmitAndStop(t *testing.T) {
	for round := range 20 {
		var handled atomic.Int64
		s := bus.NewStage("race", bus.StageOptions{QueueSize: 4, Workers: 2}, func(context.Context, int) error {
			handled.Add(1)
			return nil
		})
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for p := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					var err error
					switch (p + i) % 3 {
					case 0:
						err = s.Submit(context.Background(), i)
						if err == nil {
							accepted.Add(1)
						}
					case 1:
						err = s.TrySubmit(i)
						if err == nil {
							accepted.Add(1)
						}
					default:
						var n int
						n, err = s.SubmitBatch(context.Background(), []int{i, i + 1})
						accepted.Add(int64(n))
					}
					if errors.Is(err, bus.ErrStopped) {
						return
					}
				}
			}()
		}
		bustest.WaitStats(t, s, 0, func(st bus.StageStats) bool { return st.Processed > 100 })
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		st := s.Stats()
		if handled.Load() != accepted.Load() || st.Submitted != uint64(accepted.Load()) || st.Processed != st.Submitted {
			t.Fatalf("round %d: accepted %d, handled %d, stats %+v", round, accepted.Load(), handled.Load(), st)
		}
	}
}

func TestBusStatsSorted(t *testing.T) {
	var b bus.Bus
	noop := func(context.Context, int) error { return nil }
	for _, name := range []string{"zeta", "alpha", "mid"} {
		if err := b.Register(bus.NewStage(name, bus.StageOptions{QueueSize: 3}, noop)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Register(bus.NewStage("mid", bus.StageOptions{}, noop)); err == nil {
		t.Fatal("duplicate name registered")
	}
	st := b.Stats()
	if len(st) != 3 || st[0].Name != "alpha" || st[1].Name != "mid" || st[2].Name != "zeta" || st[0].Capacity != 3 {
		t.Fatalf("stats %+v", st)
	}
	b.Unregister("mid")
	if len(b.Stats()) != 2 {
		t.Fatal("unregister left the stage")
	}
}

func TestNewStagePanicsOnMisuse(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewStage with nil handler did not panic")
		}
	}()
	bus.NewStage[int]("x", bus.StageOptions{}, nil)
}
