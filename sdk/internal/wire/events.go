package wire

import (
	"sync"

	"github.com/onemfive/onemfive/sdk/transport"
)

// Event buffer bounds. Past eventSoftCap the queue drops non-critical
// events; it only grows to eventHardCap with blocked/failed events, which a
// transport emits rarely, and drops the oldest of those past it.
const (
	eventSoftCap = 256
	eventHardCap = 4096
)

// eventQueue buffers a transport's status events on the plugin side. push
// never blocks the transport.
type eventQueue struct {
	mu      sync.Mutex
	buf     []transport.Event
	dropped uint64
	closed  bool
	notify  chan struct{} // capacity 1: "something changed"
}

func newEventQueue() *eventQueue {
	return &eventQueue{notify: make(chan struct{}, 1)}
}

// critical events carry the input to ManCon escalation and are never
// dropped for a mere progress report.
func critical(ev transport.Event) bool {
	return ev.State == transport.StateBlocked || ev.State == transport.StateFailed
}

func (q *eventQueue) push(ev transport.Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.dropped++
		return
	}
	if len(q.buf) >= eventSoftCap {
		if !q.dropOne(func(e transport.Event) bool { return e.State == transport.StateStarting }) &&
			!q.dropOne(func(e transport.Event) bool { return !critical(e) }) {
			switch {
			case !critical(ev):
				q.dropped++
				return
			case len(q.buf) >= eventHardCap:
				q.buf = q.buf[1:]
				q.dropped++
			}
		}
	}
	q.buf = append(q.buf, ev)
	q.signal()
}

// dropOne removes the oldest event matching f.
func (q *eventQueue) dropOne(f func(transport.Event) bool) bool {
	for i, e := range q.buf {
		if f(e) {
			q.buf = append(q.buf[:i], q.buf[i+1:]...)
			q.dropped++
			return true
		}
	}
	return false
}

func (q *eventQueue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// take returns the buffered events in order, the drop count so far, and
// whether the queue is closed and now empty.
func (q *eventQueue) take() (evs []transport.Event, dropped uint64, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs, q.buf = q.buf, nil
	return evs, q.dropped, q.closed && len(evs) == 0
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}
