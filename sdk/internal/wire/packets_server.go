package wire

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"

	"github.com/onemfive/onemfive/sdk/internal/pb"
)

// Packets serves the batched packet stream for one session. Its goroutine
// is the stream's only writer; a second goroutine reads, runs the
// transport's Send for each call and hands the results over.
func (s *transportServer) Packets(stream pb.Transport_PacketsServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	sess := s.session(first.GetSession())
	w := &packetWriter{
		stream:   stream,
		sess:     sess,
		notify:   make(chan struct{}, 1),
		readDone: make(chan struct{}),
	}
	go w.readLoop(stream.Context(), s, first)
	return w.writeLoop(stream.Context())
}

type packetWriter struct {
	stream pb.Transport_PacketsServer
	sess   *session

	mu       sync.Mutex
	results  []*pb.SendResult
	granted  int64 // credit granted by the reader, not yet moved to credit
	notify   chan struct{}
	readDone chan struct{}

	credit int64 // writer goroutine only
	carry  []*pb.Packet
}

func (w *packetWriter) wake() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *packetWriter) readLoop(ctx context.Context, s *transportServer, m *pb.PacketBatch) {
	defer close(w.readDone)
	for {
		res := w.runCalls(ctx, s, m)
		w.mu.Lock()
		w.results = append(w.results, res...)
		w.granted += int64(m.GetCredit())
		w.mu.Unlock()
		if len(res) > 0 || m.GetCredit() > 0 {
			w.wake()
		}
		var err error
		if m, err = w.stream.Recv(); err != nil {
			return
		}
	}
}

// runCalls hands each call's packets to the transport, one Send per host
// Send call, in order.
func (w *packetWriter) runCalls(ctx context.Context, s *transportServer, m *pb.PacketBatch) []*pb.SendResult {
	calls := m.GetCalls()
	if len(calls) == 0 {
		return nil
	}
	pkts := m.GetPackets()
	out := make([]*pb.SendResult, 0, len(calls))
	next := 0
	for _, c := range calls {
		n := int(c.GetCount())
		r := &pb.SendResult{Id: c.GetId()}
		var err error
		switch {
		case n > len(pkts)-next:
			r.Code = int32(codes.InvalidArgument)
			r.Error = fmt.Sprintf("transport: send: call %d claims %d packets, batch has %d left", c.GetId(), n, len(pkts)-next)
			next = len(pkts)
		case w.sess.closed():
			err = fmt.Errorf("transport: send: %w", errStopped)
			next += n
		default:
			err = s.impl.Send(ctx, packetsFromPB(pkts[next:next+n]))
			next += n
		}
		if err != nil {
			r.Error, r.Code = err.Error(), int32(codeOf(err))
		}
		out = append(out, r)
	}
	return out
}

func (w *packetWriter) writeLoop(ctx context.Context) error {
	for {
		w.mu.Lock()
		results := w.results
		w.results = nil
		w.credit += w.granted
		w.granted = 0
		w.mu.Unlock()

		pkts := w.fill()
		if len(results) > 0 || len(pkts) > 0 {
			if len(pkts) > 0 {
				w.credit--
			}
			if err := w.stream.Send(&pb.PacketBatch{Packets: pkts, Results: results}); err != nil {
				return err
			}
			continue
		}
		if w.sess.closed() && w.carry == nil && len(w.sess.deliverQ) == 0 {
			return nil
		}
		var in <-chan []*pb.Packet
		if w.credit > 0 && w.carry == nil {
			in = w.sess.deliverQ
		}
		select {
		case <-w.notify:
		case b := <-in:
			w.carry = b
		case <-w.sess.done:
			// Checked again at the top: drain, then end the stream.
		case <-w.readDone:
			// The host closed its side: nothing more will be asked or
			// credited, so the stream is over.
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fill takes queued received packets, up to one message's worth, when the
// host has granted credit.
func (w *packetWriter) fill() []*pb.Packet {
	if w.credit <= 0 {
		return nil
	}
	var pkts []*pb.Packet
	size := 0
	for {
		b := w.carry
		w.carry = nil
		if b == nil {
			select {
			case b = <-w.sess.deliverQ:
			default:
				return pkts
			}
		}
		n := batchSize(b)
		if len(pkts) > 0 && (len(pkts)+len(b) > MaxBatchPackets || size+n > MaxBatchBytes) {
			w.carry = b
			return pkts
		}
		pkts = append(pkts, b...)
		size += n
	}
}
