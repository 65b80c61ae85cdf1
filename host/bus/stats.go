package bus

import (
	"fmt"
	"sort"
	"sync"
)

// StageStats is a point-in-time snapshot of a stage's counters. The
// counters are read one by one, so a snapshot taken while values flow may be
// off by the values in motion; once a stage is idle,
// Submitted == Processed + Failed + Dropped + Depth.
type StageStats struct {
	Name      string
	Workers   int
	Capacity  int    // queue size
	Submitted uint64 // values accepted into the queue
	Processed uint64 // handler returned nil
	Failed    uint64 // handler returned an error or panicked
	Rejected  uint64 // refused because the queue was full (TrySubmit, or Submit whose ctx ended)
	Dropped   uint64 // accepted but discarded by a Stop that ran out of time, or queued on a stage never started
	Depth     int    // values waiting in the queue now
	HighWater int    // largest depth seen right after an accept
	Running   bool   // started and not stopped
}

// Stats returns a snapshot of the stage's counters.
func (s *Stage[T]) Stats() StageStats {
	st := StageStats{
		Name:      s.name,
		Workers:   len(s.workers) - 1,
		Capacity:  cap(s.q),
		Depth:     len(s.q),
		Rejected:  s.rejected.Load(),
		HighWater: int(s.highWater.Load()),
	}
	for i := range s.workers {
		w := &s.workers[i]
		st.Processed += w.processed.Load()
		st.Failed += w.failed.Load()
		st.Dropped += w.dropped.Load()
	}
	// Read last so that an idle stage satisfies the identity above even if
	// a value was accepted while the worker counters were summed.
	st.Submitted = s.submitted.Load()
	s.mu.Lock()
	st.Running = s.started && !s.stopped
	s.mu.Unlock()
	return st
}

// Statser is what a Bus reports on: a named source of StageStats. *Stage[T]
// implements it for every T.
type Statser interface {
	Name() string
	Stats() StageStats
}

var _ Statser = (*Stage[int])(nil)

// Bus holds named stages for status reporting. The zero value is ready to
// use; a Bus neither starts nor stops its stages.
type Bus struct {
	mu     sync.Mutex
	stages map[string]Statser
}

// Register adds s under s.Name(). A second stage with the same name is
// refused with an error.
func (b *Bus) Register(s Statser) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	name := s.Name()
	if _, ok := b.stages[name]; ok {
		return fmt.Errorf("bus: register: stage %q already registered", name)
	}
	if b.stages == nil {
		b.stages = make(map[string]Statser)
	}
	b.stages[name] = s
	return nil
}

// Unregister removes the stage registered under name, if any.
func (b *Bus) Unregister(name string) {
	b.mu.Lock()
	delete(b.stages, name)
	b.mu.Unlock()
}

// Stats returns a snapshot of every registered stage, sorted by name.
func (b *Bus) Stats() []StageStats {
	b.mu.Lock()
	ss := make([]Statser, 0, len(b.stages))
	for _, s := range b.stages {
		ss = append(ss, s)
	}
	b.mu.Unlock()
	out := make([]StageStats, len(ss))
	for i, s := range ss {
		out[i] = s.Stats()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
