// Package bus owns the host's SEDA-style stages: named, bounded queues each
// drained by a fixed pool of worker goroutines running one handler.
//
// A Stage is built explicitly with NewStage and started with Start; nothing is
// registered globally. A Bus is a plain value that collects stages (anything
// with Name and Stats) so that status endpoints can report them, sorted by
// name.
//
// # Ordering
//
// With Workers == 1 a stage is FIFO: values are handled one at a time in the
// order their Submit/TrySubmit/SubmitBatch calls were accepted (for a single
// producer, program order; for concurrent producers, the order in which the
// sends won the queue). With Workers > 1 there is no ordering guarantee at
// all: two values may be handled concurrently and finish in any order. Stages
// give no ordering across stages.
//
// # Backpressure
//
// The queue is bounded (StageOptions.QueueSize). When it is full, Submit
// blocks until a worker frees a slot, the caller's ctx is done (the error
// wraps both ErrFull and ctx.Err()), or the stage is stopped (ErrStopped).
// TrySubmit never blocks: it returns ErrFull at once. Every refusal because
// of a full queue is counted in StageStats.Rejected. A producer that must not
// block uses TrySubmit and decides itself whether to drop, retry or spill.
//
// # Shutdown
//
// Stop first closes the stage to new values (Submit, TrySubmit and
// SubmitBatch then return ErrStopped, including producers blocked on a full
// queue), waits for the producers already inside Submit to finish, then lets
// the workers drain every value already accepted and returns once they have
// exited. Stop is bounded by its ctx: if ctx ends first, the context handed
// to handlers is cancelled, the values still queued are discarded (counted in
// StageStats.Dropped) and Stop returns an error wrapping ctx.Err(). A value
// for which Submit returned nil is therefore either handled or counted as
// dropped, never silently lost. Stop may be called more than once and from
// several goroutines; Stop before Start discards what was queued.
//
// Cancelling the ctx given to Start cancels the context that handlers see; it
// does not stop the stage (call Stop).
//
// # Failures
//
// A handler error is counted in Failed and passed to StageOptions.OnError
// (or logged at warn level when OnError is nil). A handler panic is
// recovered, counted in Failed, logged at error level with its stack, and
// reported to OnError as an error wrapping ErrPanic; the worker goroutine
// keeps running.
//
// # Concurrency and cost
//
// All methods of Stage and Bus are safe for concurrent use. The queue is a Go
// buffered channel and nothing is allocated per value. Beyond the channel
// operation, a producer pays three atomic adds (entering and leaving the
// shutdown gate, the submitted counter), each on its own cache line, and a
// worker one add on a cache line only it writes.
package bus
