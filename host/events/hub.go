package events

import (
	"context"
	"sync"
	"sync/atomic"
)

// Hub is a non-blocking fan-out of values of type T. The zero value is
// ready to use.
type Hub[T any] struct {
	mu      sync.Mutex
	subs    map[chan T]struct{}
	dropped atomic.Uint64
}

// Subscribe returns a channel receiving every value published from now on,
// until ctx is done (then the channel is closed). buf bounds the backlog.
func (h *Hub[T]) Subscribe(ctx context.Context, buf int) <-chan T {
	ch := make(chan T, max(buf, 1))
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan T]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
		h.mu.Unlock()
	}()
	return ch
}

// Publish delivers v to every subscriber. A subscriber whose buffer is
// full is cut off (its channel closed) rather than silently missing v: it
// knows it lost events and can resume from durable state.
func (h *Hub[T]) Publish(v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- v:
		default:
			h.dropped.Add(1)
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// Dropped counts subscribers cut off for falling behind.
func (h *Hub[T]) Dropped() uint64 { return h.dropped.Load() }

// Subscribers returns the current number of subscribers.
func (h *Hub[T]) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
