package overlay

import (
	"time"
)

// Reassembly limits: a sender cannot make a node hold more than this.
const (
	maxPendingMessages = 1024
	maxPendingBytes    = 16 << 20
	pendingTTL         = 2 * time.Minute
	doneTTL            = 10 * time.Minute
)

// reassembler collects fragments into messages. It is not safe for
// concurrent use; the overlay serialises calls.
type reassembler struct {
	pending map[[msgIDSize]byte]*partial
	done    map[[msgIDSize]byte]time.Time // completed ids, for duplicate suppression
	bytes   int
	swept   time.Time // last expire
}

type partial struct {
	count  int
	chunks [][]byte
	have   int
	size   int
	first  time.Time
}

func newReassembler() *reassembler {
	return &reassembler{pending: map[[msgIDSize]byte]*partial{}, done: map[[msgIDSize]byte]time.Time{}}
}

// add takes one fragment at now and returns the whole message once its last
// fragment has arrived. Duplicates of fragments or of completed messages
// return nil; so do fragments that would exceed the limits (dropped: the
// sender retransmits).
func (r *reassembler) add(f fragment, now time.Time) []byte {
	r.expire(now)
	if _, ok := r.done[f.id]; ok {
		return nil
	}
	if f.count == 1 {
		r.done[f.id] = now
		return append([]byte(nil), f.chunk...)
	}
	p := r.pending[f.id]
	if p == nil {
		if len(r.pending) >= maxPendingMessages {
			return nil
		}
		p = &partial{count: f.count, chunks: make([][]byte, f.count), first: now}
		r.pending[f.id] = p
	}
	if p.count != f.count || p.chunks[f.index] != nil || r.bytes+len(f.chunk) > maxPendingBytes {
		return nil
	}
	p.chunks[f.index] = append([]byte(nil), f.chunk...)
	p.have++
	p.size += len(f.chunk)
	r.bytes += len(f.chunk)
	if p.have < p.count {
		return nil
	}
	delete(r.pending, f.id)
	r.bytes -= p.size
	r.done[f.id] = now
	msg := make([]byte, 0, p.size)
	for _, c := range p.chunks {
		msg = append(msg, c...)
	}
	return msg
}

// expire drops partial messages older than pendingTTL and forgets completed
// ids after doneTTL.
func (r *reassembler) expire(now time.Time) {
	if now.Sub(r.swept) < time.Second {
		return
	}
	r.swept = now
	for id, p := range r.pending {
		if now.Sub(p.first) > pendingTTL {
			r.bytes -= p.size
			delete(r.pending, id)
		}
	}
	for id, t := range r.done {
		if now.Sub(t) > doneTTL {
			delete(r.done, id)
		}
	}
}

// pendingCount is the number of incomplete messages held.
func (r *reassembler) pendingCount() int { return len(r.pending) }
