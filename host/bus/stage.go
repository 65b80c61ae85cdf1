package bus

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// Sentinel errors. Errors returned by stages wrap them; test with errors.Is.
var (
	// ErrFull reports that a stage's queue had no free slot: TrySubmit
	// returns it at once, Submit wraps it together with ctx.Err() when its
	// ctx ends while it waits for a slot.
	ErrFull = errors.New("bus: queue full")
	// ErrStopped reports that the stage no longer accepts values.
	ErrStopped = errors.New("bus: stage stopped")
	// ErrPanic is wrapped by the error handed to OnError when a handler
	// panicked.
	ErrPanic = errors.New("bus: handler panic")
)

// DefaultQueueSize is the queue capacity used when StageOptions.QueueSize is 0.
const DefaultQueueSize = 1024

// Handler processes one value. The ctx is derived from the one given to
// Start and is cancelled when Stop gives up waiting.
type Handler[T any] func(ctx context.Context, v T) error

// StageOptions configures a stage. The zero value is usable: a queue of
// DefaultQueueSize, one worker, no logging.
type StageOptions struct {
	// QueueSize is the number of values that can wait in the queue;
	// 0 means DefaultQueueSize.
	QueueSize int
	// Workers is the number of goroutines running the handler; 0 means 1.
	Workers int
	// Logger receives panics (error level) and, when OnError is nil,
	// handler errors (warn level). Nil means no logging.
	Logger hclog.Logger
	// OnError, if set, is called from the worker goroutine for every
	// failed value: a handler error, or an error wrapping ErrPanic.
	OnError func(stage string, v any, err error)
}

// cacheLine keeps hot counters written by different goroutines apart.
const cacheLine = 64

type paddedU64 struct {
	atomic.Uint64
	_ [cacheLine - 8]byte
}

type paddedI64 struct {
	atomic.Int64
	_ [cacheLine - 8]byte
}

// workerCounters are written by a single goroutine each.
type workerCounters struct {
	processed atomic.Uint64
	failed    atomic.Uint64
	dropped   atomic.Uint64
	_         [cacheLine - 24]byte
}

// closedBit marks the submission gate closed; the low bits count producers
// currently inside Submit, TrySubmit or SubmitBatch.
const closedBit = int64(1) << 62

// Stage is a named bounded queue drained by a pool of workers. Create it
// with NewStage; all methods are safe for concurrent use.
type Stage[T any] struct {
	_         [cacheLine]byte
	gate      paddedI64
	submitted paddedU64
	rejected  paddedU64
	highWater paddedU64
	abandon   atomic.Bool // set when Stop timed out: workers discard values

	name    string
	q       chan T
	h       Handler[T]
	workers []workerCounters // one per worker, plus one for Stop's own drain
	log     hclog.Logger
	onError func(string, any, error)

	errStopped error // preallocated: no allocation on the refusal path
	errFull    error

	done      chan struct{} // closed when Stop begins: wakes blocked producers
	quiesced  chan struct{} // signalled when the last producer left a closed gate
	exited    chan struct{} // closed when every worker (or Stop's drain) is done
	closeOnce sync.Once

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
}

// NewStage builds a stopped stage; call Start to run its workers. Values may
// be submitted before Start (they wait in the queue). It panics on an empty
// name, a nil handler or negative sizes: those are programming errors.
func NewStage[T any](name string, opts StageOptions, h Handler[T]) *Stage[T] {
	if name == "" || h == nil || opts.QueueSize < 0 || opts.Workers < 0 {
		panic(fmt.Sprintf("bus: NewStage(%q): empty name, nil handler or negative size", name))
	}
	if opts.QueueSize == 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Stage[T]{
		name:       name,
		q:          make(chan T, opts.QueueSize),
		h:          h,
		workers:    make([]workerCounters, opts.Workers+1),
		log:        log.With("stage", name),
		onError:    opts.OnError,
		errStopped: fmt.Errorf("bus: stage %q: %w", name, ErrStopped),
		errFull:    fmt.Errorf("bus: stage %q: %w", name, ErrFull),
		done:       make(chan struct{}),
		quiesced:   make(chan struct{}, 1),
		exited:     make(chan struct{}),
	}
}

// Name returns the stage's name.
func (s *Stage[T]) Name() string { return s.name }

// Start runs the workers. Handlers get a context derived from ctx. Start
// fails if the stage was already started or stopped.
func (s *Stage[T]) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return s.errStopped
	}
	if s.started {
		return fmt.Errorf("bus: stage %q: already started", s.name)
	}
	s.started = true
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	n := len(s.workers) - 1
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		go func(w *workerCounters) {
			defer wg.Done()
			s.work(runCtx, w)
		}(&s.workers[i])
	}
	go func() {
		wg.Wait()
		close(s.exited)
	}()
	return nil
}

// Stop stops accepting values, drains what is queued and waits for the
// workers to exit, or for ctx to end (see the package doc). It returns nil
// once the workers have exited.
func (s *Stage[T]) Stop(ctx context.Context) error {
	s.closeOnce.Do(s.close)
	select {
	case <-s.exited:
		return nil
	case <-ctx.Done():
	}
	s.abandon.Store(true)
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	return fmt.Errorf("bus: stage %q: stop: %w", s.name, ctx.Err())
}

// close shuts the gate, wakes blocked producers and, once no producer is
// inside the gate, closes the queue so that the workers drain it and exit.
func (s *Stage[T]) close() {
	s.mu.Lock()
	s.stopped = true
	started := s.started
	s.mu.Unlock()

	old := s.gate.Or(closedBit)
	close(s.done)
	go func() {
		if old&^closedBit != 0 {
			<-s.quiesced
		}
		close(s.q)
		if started {
			return
		}
		// Never started: nothing will run the handler; account for the
		// values left behind.
		w := &s.workers[len(s.workers)-1]
		for range s.q {
			w.dropped.Add(1)
		}
		close(s.exited)
	}()
}

func (s *Stage[T]) enter() bool {
	if s.gate.Add(1)&closedBit != 0 {
		s.leave()
		return false
	}
	return true
}

func (s *Stage[T]) leave() {
	if s.gate.Add(-1) == closedBit {
		select {
		case s.quiesced <- struct{}{}:
		default:
		}
	}
}

// accepted records n values placed in the queue.
func (s *Stage[T]) accepted(n uint64) {
	s.submitted.Add(n)
	d := uint64(len(s.q))
	for {
		hw := s.highWater.Load()
		if d <= hw || s.highWater.CompareAndSwap(hw, d) {
			return
		}
	}
}

// Submit queues v, blocking while the queue is full until a slot frees, ctx
// ends (the error wraps ErrFull and ctx.Err()) or the stage stops
// (ErrStopped).
func (s *Stage[T]) Submit(ctx context.Context, v T) error {
	if !s.enter() {
		return s.errStopped
	}
	err := s.send(ctx, v)
	s.leave()
	return err
}

// send places one value; the caller is inside the gate.
func (s *Stage[T]) send(ctx context.Context, v T) error {
	select {
	case s.q <- v:
		s.accepted(1)
		return nil
	default:
	}
	select {
	case s.q <- v:
		s.accepted(1)
		return nil
	case <-s.done:
		return s.errStopped
	case <-ctx.Done():
		s.rejected.Add(1)
		return fmt.Errorf("bus: stage %q: submit: %w: %w", s.name, ErrFull, ctx.Err())
	}
}

// TrySubmit queues v if a slot is free and returns ErrFull (wrapped) at once
// otherwise.
func (s *Stage[T]) TrySubmit(v T) error {
	if !s.enter() {
		return s.errStopped
	}
	defer s.leave()
	select {
	case s.q <- v:
		s.accepted(1)
		return nil
	default:
		s.rejected.Add(1)
		return s.errFull
	}
}

// SubmitBatch queues vs in order with the blocking semantics of Submit and
// returns how many were accepted (a prefix of vs) and the error that stopped
// it, if any. It saves the per-call overhead of Submit for bulk producers.
func (s *Stage[T]) SubmitBatch(ctx context.Context, vs []T) (int, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	if !s.enter() {
		return 0, s.errStopped
	}
	defer s.leave()
	total, pending := 0, 0
	for _, v := range vs {
		select {
		case s.q <- v:
			pending++
			continue
		default:
		}
		if pending > 0 {
			s.accepted(uint64(pending))
			total, pending = total+pending, 0
		}
		if err := s.send(ctx, v); err != nil {
			return total, err
		}
		total++
	}
	if pending > 0 {
		s.accepted(uint64(pending))
		total += pending
	}
	return total, nil
}

// work is one worker's loop; it ends when the queue is closed and empty.
func (s *Stage[T]) work(ctx context.Context, w *workerCounters) {
	for v := range s.q {
		if s.abandon.Load() {
			w.dropped.Add(1)
			continue
		}
		s.handle(ctx, w, v)
	}
}

func (s *Stage[T]) handle(ctx context.Context, w *workerCounters, v T) {
	defer func() {
		if r := recover(); r != nil {
			w.failed.Add(1)
			err := fmt.Errorf("bus: stage %q: %w: %v", s.name, ErrPanic, r)
			s.log.Error("handler panic recovered", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if s.onError != nil {
				s.onError(s.name, v, err)
			}
		}
	}()
	if err := s.h(ctx, v); err != nil {
		w.failed.Add(1)
		if s.onError != nil {
			s.onError(s.name, v, err)
		} else {
			s.log.Warn("handler failed", "error", err)
		}
		return
	}
	w.processed.Add(1)
}
