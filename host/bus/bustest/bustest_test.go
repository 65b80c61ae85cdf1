package bustest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/onemfive/onemfive/host/bus"
	"github.com/onemfive/onemfive/host/bus/bustest"
)

func TestRecorderAndWaits(t *testing.T) {
	s, rec := bustest.NewRecordingStage[string](t, "rec", bus.StageOptions{QueueSize: 4})
	rec.Err = func(v string) error {
		if v == "bad" {
			return errors.New("bad value")
		}
		return nil
	}
	ctx := context.Background()
	for _, v := range []string{"a", "bad", "c"} {
		if err := s.Submit(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.WaitLen(t, 3, 0)
	if len(got) != 3 || got[0] != "a" || got[1] != "bad" || got[2] != "c" {
		t.Fatalf("recorded %q", got)
	}
	st := bustest.WaitIdle(t, s, 0)
	if st.Processed != 2 || st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	if st := bustest.WaitHandled(t, s, 3, 0); st.Submitted != 3 {
		t.Fatalf("stats %+v", st)
	}
	if rec.Len() != 3 || len(rec.Values()) != 3 {
		t.Fatal("Len/Values disagree with WaitLen")
	}
}

func TestGate(t *testing.T) {
	g := bustest.NewGate()
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- g.Wait(context.Background()) }()
	}
	g.WaitEntered(t, 2, 0)
	select {
	case <-done:
		t.Fatal("Wait returned before Open")
	default:
	}
	g.Open()
	g.Open() // idempotent
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := bustest.NewGate().Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with done ctx = %v", err)
	}
}
