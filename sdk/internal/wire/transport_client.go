package wire

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

// initialCredit is how many received-packet messages the host lets the
// plugin send ahead of its Host.Deliver.
const initialCredit = 8

// failedStartDrain bounds how long a failed Start waits for the events the
// plugin reported before failing.
const failedStartDrain = 5 * time.Second

var errNotRunning = errors.New("transport not started")

// TransportClient is the host side of a transport plugin: a
// transport.Transport and transport.Dialer over gRPC.
type TransportClient struct {
	baseClient
	rpc pb.TransportClient

	life        sync.Mutex // serialises Start and Stop
	mu          sync.Mutex // guards run
	run         *run
	session     atomic.Uint64
	dropped     atomic.Uint64
	droppedDisc atomic.Uint64
}

var (
	_ transport.Transport = (*TransportClient)(nil)
	_ transport.Dialer    = (*TransportClient)(nil)
	_ transport.Announcer = (*TransportClient)(nil)
)

// NewTransportClient returns the host side client over conn.
func NewTransportClient(conn grpc.ClientConnInterface) *TransportClient {
	return &TransportClient{baseClient: newBaseClient(conn), rpc: pb.NewTransportClient(conn)}
}

// DroppedEvents reports how many status events the plugin dropped because
// the host did not take them fast enough, over all runs.
func (c *TransportClient) DroppedEvents() uint64 { return c.dropped.Load() }

// Start implements transport.Transport. It opens the event and packet
// streams first, so nothing the transport reports while starting is lost.
func (c *TransportClient) Start(ctx context.Context, h transport.Host) ([]string, error) {
	const op = "transport: start"
	c.life.Lock()
	defer c.life.Unlock()
	c.mu.Lock()
	old := c.run
	c.mu.Unlock()
	if old != nil {
		if !old.isFailed() {
			return nil, fmt.Errorf("%s: already started", op)
		}
		old.teardown(old.err())
	}
	r, err := c.open(ctx, h)
	if err != nil {
		return nil, err
	}
	resp, err := c.rpc.Start(ctx, &pb.StartRequest{Session: r.id})
	if err != nil {
		// The plugin ended the session: let the streams hand over what the
		// failed start reported, for a moment, then tear down.
		r.stopping.Store(true)
		wctx, cancel := context.WithTimeout(ctx, failedStartDrain)
		r.wait(wctx)
		cancel()
		r.teardown(fmt.Errorf("%s: %w", op, errNotRunning))
		return nil, clientErr(ctx, op, err)
	}
	c.mu.Lock()
	c.run = r
	c.mu.Unlock()
	return resp.GetAddresses(), nil
}

func (c *TransportClient) open(ctx context.Context, h transport.Host) (*run, error) {
	const op = "transport: start"
	id := c.session.Add(1)
	sctx, cancel := context.WithCancel(context.Background())
	r := &run{
		id:       id,
		h:        h,
		ctx:      sctx,
		cancel:   cancel,
		reqs:     make(chan *sendReq, MaxBatchPackets),
		creditCh: make(chan struct{}, 1),
		deliverQ: make(chan []*pb.Packet, initialCredit),
		pending:  make(map[uint64]*sendReq),
		failed:   make(chan struct{}),
		dropped:  &c.dropped,
	}
	r.droppedDisc = &c.droppedDisc
	events, err := c.rpc.Events(sctx, &pb.EventsRequest{Session: id})
	if err != nil {
		cancel()
		return nil, clientErr(ctx, op, err)
	}
	packets, err := c.rpc.Packets(sctx)
	if err == nil {
		err = packets.Send(&pb.PacketBatch{Session: id, Credit: initialCredit})
	}
	if err != nil {
		cancel()
		return nil, clientErr(ctx, op, err)
	}
	r.packets = packets
	if d, ok := h.(transport.Discoverer); ok {
		// Only a host that takes discoveries asks for them; the plugin
		// buffers a bounded number for hosts that never do.
		ds, err := c.rpc.Discoveries(sctx, &pb.EventsRequest{Session: id})
		if err != nil {
			cancel()
			return nil, clientErr(ctx, op, err)
		}
		r.wg.Add(1)
		go r.readDiscoveries(ds, d)
	}
	r.wg.Add(4)
	go r.readEvents(events)
	go r.readPackets()
	go r.writePackets()
	go r.deliver()
	return r, nil
}

// Send implements transport.Transport. Concurrent calls share stream
// messages; each returns once the plugin's transport accepted or refused
// its packets. A Send larger than one message is split, and the plugin's
// transport sees each part as its own Send.
func (c *TransportClient) Send(ctx context.Context, pkts []transport.Packet) error {
	const op = "transport: send"
	for i, p := range pkts {
		if len(p.Data) > transport.MaxPacketSize {
			return fmt.Errorf("%s: packet %d is %d bytes, limit %d", op, i, len(p.Data), transport.MaxPacketSize)
		}
	}
	c.mu.Lock()
	r := c.run
	c.mu.Unlock()
	if r == nil {
		return fmt.Errorf("%s: %w", op, errNotRunning)
	}
	if len(pkts) == 0 {
		return r.err()
	}
	chunks := splitBatches(packetsToPB(pkts))
	reqs := make([]*sendReq, len(chunks))
	for i, ch := range chunks {
		reqs[i] = &sendReq{pkts: ch, size: batchSize(ch), done: make(chan error, 1)}
		select {
		case r.reqs <- reqs[i]:
		case <-r.failed:
			return r.err()
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
	}
	var first error
	for _, q := range reqs {
		select {
		case err := <-q.done:
			if err != nil && first == nil {
				first = fmt.Errorf("%s: %w", op, err)
			}
		case <-r.failed:
			return r.err()
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
	}
	return first
}

// SendUnary sends pkts as one unary call, bypassing the stream: the
// fallback path and the baseline the stream is measured against.
func (c *TransportClient) SendUnary(ctx context.Context, pkts []transport.Packet) error {
	_, err := c.rpc.SendUnary(ctx, &pb.PacketBatch{Packets: packetsToPB(pkts)})
	return clientErr(ctx, "transport: send", err)
}

// Stop implements transport.Transport. When it returns, the events and
// packets the transport produced before its own Stop returned have been
// handed to the Host.
func (c *TransportClient) Stop(ctx context.Context) error {
	const op = "transport: stop"
	c.life.Lock()
	defer c.life.Unlock()
	c.mu.Lock()
	r := c.run
	c.run = nil
	c.mu.Unlock()
	var id uint64
	if r != nil {
		id = r.id
		r.stopping.Store(true)
	}
	_, err := c.rpc.Stop(ctx, &pb.StopRequest{Session: id})
	if r != nil {
		if err == nil {
			r.wait(ctx)
		}
		r.teardown(fmt.Errorf("%s: %w", "transport: send", errStopped))
	}
	return clientErr(ctx, op, err)
}
