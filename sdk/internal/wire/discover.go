package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

// discoveryQueueLen bounds the discoveries the plugin buffers for the host.
// Announcements repeat, so past it the oldest is dropped (and counted)
// rather than stalling the transport's receive loop.
const discoveryQueueLen = 256

// discoveryQueue buffers a transport's discovered records on the plugin
// side. push never blocks.
type discoveryQueue struct {
	mu      sync.Mutex
	buf     []*pb.Discovery
	dropped uint64
	closed  bool
	notify  chan struct{} // capacity 1
}

func newDiscoveryQueue() *discoveryQueue {
	return &discoveryQueue{notify: make(chan struct{}, 1)}
}

func (q *discoveryQueue) push(d *pb.Discovery) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if len(q.buf) >= discoveryQueueLen {
		q.buf = q.buf[1:]
		q.dropped++
	}
	q.buf = append(q.buf, d)
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

func (q *discoveryQueue) take() (ds []*pb.Discovery, dropped uint64, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ds, q.buf = q.buf, nil
	return ds, q.dropped, q.closed && len(ds) == 0
}

func (q *discoveryQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Discovered implements transport.Discoverer on the plugin side: it copies
// record and queues it for the host without blocking.
func (s *session) Discovered(ctx context.Context, addr string, record []byte) error {
	if !s.discoveries.push(&pb.Discovery{Addr: addr, Record: append([]byte(nil), record...)}) {
		return fmt.Errorf("transport: discovered: %w", errStopped)
	}
	return nil
}

var _ transport.Discoverer = (*session)(nil)

// Announce serves transport.Announcer.
func (s *transportServer) Announce(ctx context.Context, req *pb.AnnounceRequest) (*pb.Empty, error) {
	a, ok := s.impl.(transport.Announcer)
	if !ok {
		return nil, toStatus(fmt.Errorf("transport: announce: %w", ErrUnsupported))
	}
	if err := a.Announce(ctx, req.GetRecord()); err != nil {
		return nil, toStatus(err)
	}
	return &pb.Empty{}, nil
}

// Discoveries streams a session's discovered records until it ends.
func (s *transportServer) Discoveries(req *pb.EventsRequest, stream pb.Transport_DiscoveriesServer) error {
	sess := s.session(req.GetSession())
	ctx := stream.Context()
	for {
		ds, dropped, done := sess.discoveries.take()
		for _, d := range ds {
			d.Dropped = dropped
			if err := stream.Send(d); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		if len(ds) > 0 {
			continue
		}
		select {
		case <-sess.discoveries.notify:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Announce implements transport.Announcer. It fails with an error wrapping
// ErrUnsupported when the plugin's transport is not an Announcer.
func (c *TransportClient) Announce(ctx context.Context, record []byte) error {
	_, err := c.rpc.Announce(ctx, &pb.AnnounceRequest{Record: record})
	return clientErr(ctx, "transport: announce", err)
}

// DroppedDiscoveries reports how many discovered records the plugin dropped
// because the host did not take them fast enough, over all runs.
func (c *TransportClient) DroppedDiscoveries() uint64 { return c.droppedDisc.Load() }

// readDiscoveries hands discovered records to the host's Discoverer. A
// plugin built before the stream existed answers Unimplemented, which only
// means it discovers nothing; other ends are left to the event and packet
// streams to report.
func (r *run) readDiscoveries(s pb.Transport_DiscoveriesClient, d transport.Discoverer) {
	defer r.wg.Done()
	var last uint64
	for {
		m, err := s.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) && status.Code(err) != codes.Unimplemented && status.Code(err) != codes.Canceled {
				r.streamEnded("discoveries", err)
			}
			return
		}
		if n := m.GetDropped(); n > last {
			r.droppedDisc.Add(n - last)
			last = n
		}
		// The host verifies; a record it rejects is its own business and
		// says nothing about the stream.
		_ = d.Discovered(r.ctx, m.GetAddr(), m.GetRecord())
	}
}
