package wire

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Batch limits for one Packets stream message.
const (
	MaxBatchPackets = 256
	MaxBatchBytes   = 1 << 20
)

// deliverQueueLen bounds the batches the plugin buffers between its
// transport's Host.Deliver and the stream; a full queue makes Deliver block.
const deliverQueueLen = 64

var errStopped = errors.New("transport stopped")

// session is one Start..Stop of a transport on the plugin side: the Host
// given to the transport, and the buffers its streams drain. Streams and the
// Start RPC find it by id in any order, so nothing emitted early is lost.
type session struct {
	id          uint64
	events      *eventQueue
	discoveries *discoveryQueue
	deliverQ    chan []*pb.Packet
	done        chan struct{}
	once        sync.Once
}

func newSession(id uint64) *session {
	return &session{
		id:          id,
		events:      newEventQueue(),
		discoveries: newDiscoveryQueue(),
		deliverQ:    make(chan []*pb.Packet, deliverQueueLen),
		done:        make(chan struct{}),
	}
}

func (s *session) close() {
	s.once.Do(func() {
		close(s.done)
		s.events.close()
		s.discoveries.close()
	})
}

func (s *session) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Deliver implements transport.Host. It copies pkts, so the transport may
// reuse them once it returns, and blocks while the stream is backed up.
func (s *session) Deliver(ctx context.Context, pkts []transport.Packet) error {
	if len(pkts) == 0 {
		return nil
	}
	for _, chunk := range splitBatches(packetsToPB(pkts)) {
		if s.closed() {
			return fmt.Errorf("transport: deliver: %w", errStopped)
		}
		select {
		case s.deliverQ <- chunk:
		case <-s.done:
			return fmt.Errorf("transport: deliver: %w", errStopped)
		case <-ctx.Done():
			return fmt.Errorf("transport: deliver: %w", ctx.Err())
		}
	}
	return nil
}

// Event implements transport.Host; it never blocks. An event without a time
// is stamped now.
func (s *session) Event(ev transport.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	s.events.push(ev)
}

// splitBatches cuts pkts into runs that each fit one stream message.
func splitBatches(pkts []*pb.Packet) [][]*pb.Packet {
	var out [][]*pb.Packet
	start, size := 0, 0
	for i, p := range pkts {
		n := len(p.Data) + len(p.Addr)
		if i > start && (i-start >= MaxBatchPackets || size+n > MaxBatchBytes) {
			out = append(out, pkts[start:i:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, pkts[start:])
}

func batchSize(pkts []*pb.Packet) int {
	n := 0
	for _, p := range pkts {
		n += len(p.Data) + len(p.Addr)
	}
	return n
}

// transportServer serves pb.Transport for a plugin's transport.
type transportServer struct {
	pb.UnimplementedTransportServer
	impl transport.Transport

	mu    sync.Mutex
	cur   *session
	last  *session // the most recently ended, for streams that arrive late
	maxID uint64
}

func newTransportServer(impl transport.Transport) *transportServer {
	return &transportServer{impl: impl}
}

// session returns the session with this id, creating it when the id is
// newer than any seen (a newer session supersedes the current one). A stale
// id gets a closed session, so a late stream from an old run ends at once.
func (s *transportServer) session(id uint64) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.id == id {
		return s.cur
	}
	if s.last != nil && s.last.id == id {
		return s.last
	}
	if id <= s.maxID {
		old := newSession(id)
		old.close()
		return old
	}
	if s.cur != nil {
		s.cur.close()
	}
	s.maxID = id
	s.cur = newSession(id)
	return s.cur
}

func (s *transportServer) endSession(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && (id == 0 || s.cur.id == id) {
		s.cur.close()
		s.last, s.cur = s.cur, nil
	}
}

func (s *transportServer) Start(ctx context.Context, req *pb.StartRequest) (*pb.StartResponse, error) {
	sess := s.session(req.GetSession())
	if sess.closed() {
		return nil, toStatus(fmt.Errorf("transport: start: session %d is stale", req.GetSession()))
	}
	addrs, err := s.impl.Start(ctx, sess)
	if err != nil {
		// Closing lets the streams flush what the failed start reported
		// (typically a failed event with its reason) and end.
		s.endSession(req.GetSession())
		return nil, toStatus(err)
	}
	return &pb.StartResponse{Addresses: addrs}, nil
}

func (s *transportServer) Stop(ctx context.Context, req *pb.StopRequest) (*pb.Empty, error) {
	err := s.impl.Stop(ctx)
	s.endSession(req.GetSession())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.Empty{}, nil
}

func (s *transportServer) SendUnary(ctx context.Context, b *pb.PacketBatch) (*pb.Empty, error) {
	if err := s.impl.Send(ctx, packetsFromPB(b.GetPackets())); err != nil {
		return nil, toStatus(err)
	}
	return &pb.Empty{}, nil
}

func (s *transportServer) Events(req *pb.EventsRequest, stream pb.Transport_EventsServer) error {
	sess := s.session(req.GetSession())
	ctx := stream.Context()
	for {
		evs, dropped, done := sess.events.take()
		for _, ev := range evs {
			if err := stream.Send(eventToPB(ev, dropped)); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		if len(evs) > 0 {
			continue
		}
		select {
		case <-sess.events.notify:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
