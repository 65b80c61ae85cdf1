package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/bus"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// The benchmarks hand the same envelope pointer through a stage whose
// handler does nothing, and through a plain buffered channel with one
// consumer goroutine, so the figures compare the stage's overhead with the
// channel it is built on. Queue size and value type are the same for both.

const benchQueue = 1024

func reportRate(b *testing.B, start time.Time) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "envelopes/s")
}

func BenchmarkStage(b *testing.B) {
	env := &envelope.Envelope{}
	run := func(b *testing.B, parallel bool) {
		var wg sync.WaitGroup
		s := bus.NewStage("bench", bus.StageOptions{QueueSize: benchQueue}, func(context.Context, *envelope.Envelope) error {
			wg.Done()
			return nil
		})
		if err := s.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		wg.Add(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Submit(ctx, env); err != nil {
						b.Error(err)
						return
					}
				}
			})
		} else {
			for range b.N {
				if err := s.Submit(ctx, env); err != nil {
					b.Fatal(err)
				}
			}
		}
		wg.Wait()
		reportRate(b, start)
		b.StopTimer()
		_ = s.Stop(ctx)
	}
	b.Run("single", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
}

func BenchmarkChannel(b *testing.B) {
	env := &envelope.Envelope{}
	run := func(b *testing.B, parallel bool) {
		var wg sync.WaitGroup
		ch := make(chan *envelope.Envelope, benchQueue)
		go func() {
			for range ch {
				wg.Done()
			}
		}()
		wg.Add(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ch <- env
				}
			})
		} else {
			for range b.N {
				ch <- env
			}
		}
		wg.Wait()
		reportRate(b, start)
		b.StopTimer()
		close(ch)
	}
	b.Run("single", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
}

func BenchmarkStageBatch(b *testing.B) {
	env := &envelope.Envelope{}
	var wg sync.WaitGroup
	s := bus.NewStage("bench", bus.StageOptions{QueueSize: benchQueue}, func(context.Context, *envelope.Envelope) error {
		wg.Done()
		return nil
	})
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	batch := make([]*envelope.Envelope, 64)
	for i := range batch {
		batch[i] = env
	}
	ctx := context.Background()
	wg.Add(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for left := b.N; left > 0; {
		n := min(left, len(batch))
		if _, err := s.SubmitBatch(ctx, batch[:n]); err != nil {
			b.Fatal(err)
		}
		left -= n
	}
	wg.Wait()
	reportRate(b, start)
	b.StopTimer()
	_ = s.Stop(ctx)
}
