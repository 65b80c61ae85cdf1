package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"

	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

// sendReq is one part of a host Send waiting for the plugin's verdict.
type sendReq struct {
	pkts []*pb.Packet
	size int
	done chan error // capacity 1
}

// run is one started transport on the host side: the two streams and the
// goroutines that serve them.
type run struct {
	id     uint64
	h      transport.Host
	ctx    context.Context // ends at teardown; given to Host.Deliver
	cancel context.CancelFunc

	packets     pb.Transport_PacketsClient
	reqs        chan *sendReq
	creditCh    chan struct{} // capacity 1: the deliverer returned credit
	credit      atomic.Uint32
	deliverQ    chan []*pb.Packet
	dropped     *atomic.Uint64
	droppedDisc *atomic.Uint64
	stopping    atomic.Bool

	mu      sync.Mutex
	pending map[uint64]*sendReq // nil once failed
	nextID  uint64
	failErr error
	failed  chan struct{}

	wg sync.WaitGroup
}

func (r *run) isFailed() bool {
	select {
	case <-r.failed:
		return true
	default:
		return false
	}
}

// err reports why the run ended, or nil while it is live.
func (r *run) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failErr
}

// fail ends the run once: every waiting and later Send gets err.
func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failErr != nil {
		return
	}
	r.failErr = err
	for _, q := range r.pending {
		q.done <- err
	}
	r.pending = nil
	close(r.failed)
}

// streamEnded turns a stream's end into the run's failure: a clean end
// while stopping is a stop, anything else means the plugin is gone.
func (r *run) streamEnded(what string, err error) {
	if r.stopping.Load() && (err == nil || errors.Is(err, io.EOF)) {
		r.fail(fmt.Errorf("transport: send: %w", errStopped))
		return
	}
	if err == nil {
		err = io.EOF
	}
	r.fail(clientErr(context.Background(), "transport: "+what, err))
}

// wait lets the plugin finish both streams (it does once its session is
// closed), up to ctx.
func (r *run) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (r *run) teardown(err error) {
	r.fail(err)
	r.cancel()
}

func (r *run) readEvents(s pb.Transport_EventsClient) {
	defer r.wg.Done()
	var last uint64
	for {
		m, err := s.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.streamEnded("events", err)
			}
			return
		}
		if d := m.GetDropped(); d > last {
			r.dropped.Add(d - last)
			last = d
		}
		r.h.Event(eventFromPB(m))
	}
}

// writePackets is the stream's only writer: it coalesces queued sends, and
// returned credit, into as few messages as the limits allow.
func (r *run) writePackets() {
	defer r.wg.Done()
	var carry *sendReq
	for {
		q := carry
		carry = nil
		if q == nil {
			select {
			case q = <-r.reqs:
			case <-r.creditCh:
			case <-r.failed:
				return
			}
		}
		if len(r.reqs) == 0 {
			// Give senders that are about to enqueue a moment to join
			// this message: fewer, fuller messages cost less than the
			// yield.
			runtime.Gosched()
		}
		m := &pb.PacketBatch{}
		size := 0
		for q != nil {
			if len(m.Packets) > 0 && (len(m.Packets)+len(q.pkts) > MaxBatchPackets || size+q.size > MaxBatchBytes) {
				carry = q
				break
			}
			r.mu.Lock()
			if r.pending == nil {
				q.done <- r.failErr
				r.mu.Unlock()
			} else {
				r.nextID++
				r.pending[r.nextID] = q
				r.mu.Unlock()
				m.Calls = append(m.Calls, &pb.SendCall{Id: r.nextID, Count: uint32(len(q.pkts))})
				m.Packets = append(m.Packets, q.pkts...)
				size += q.size
			}
			select {
			case q = <-r.reqs:
			default:
				q = nil
			}
		}
		m.Credit = r.credit.Swap(0)
		if len(m.Calls) == 0 && m.Credit == 0 {
			continue
		}
		if err := r.packets.Send(m); err != nil {
			r.streamEnded("packets", err)
			return
		}
	}
}

// readPackets dispatches send results at once and queues received packets
// for the deliverer; the plugin never sends more packet messages than it
// has credit for, so the queue never blocks this loop.
func (r *run) readPackets() {
	defer r.wg.Done()
	defer close(r.deliverQ)
	for {
		m, err := r.packets.Recv()
		if err != nil {
			r.streamEnded("packets", err)
			return
		}
		for _, res := range m.GetResults() {
			r.mu.Lock()
			q := r.pending[res.GetId()]
			delete(r.pending, res.GetId())
			r.mu.Unlock()
			if q != nil {
				q.done <- fromCode(codes.Code(res.GetCode()), res.GetError())
			}
		}
		if len(m.GetPackets()) > 0 {
			select {
			case r.deliverQ <- m.GetPackets():
			case <-r.ctx.Done():
				return
			}
		}
	}
}

// deliver hands received packets to the host and returns credit for each
// message it finished.
func (r *run) deliver() {
	defer r.wg.Done()
	for pkts := range r.deliverQ {
		// The host copies what it keeps, and a Deliver error (host
		// shutting down) leaves nothing to retry for a datagram.
		_ = r.h.Deliver(r.ctx, packetsFromPB(pkts))
		r.credit.Add(1)
		select {
		case r.creditCh <- struct{}{}:
		default:
		}
	}
}
