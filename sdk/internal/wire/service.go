package wire

import (
	"context"
	"fmt"
	"sync"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/service"
)

// serviceServer serves pb.Service for a plugin's service.
type serviceServer struct {
	pb.UnimplementedServiceServer
	impl   service.Service
	broker *plugin.GRPCBroker

	mu   sync.Mutex
	conn *grpc.ClientConn // to the host's ServiceHost
}

func (s *serviceServer) Start(ctx context.Context, req *pb.ServiceStartRequest) (*pb.Empty, error) {
	conn, err := s.broker.DialWithOptions(req.GetBrokerId(), DialOptions()...)
	if err != nil {
		return nil, toStatus(fmt.Errorf("service: start: dial host: %w", err))
	}
	s.mu.Lock()
	old := s.conn
	s.conn = conn
	s.mu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	if err := s.impl.Start(ctx, &hostCaller{rpc: pb.NewServiceHostClient(conn)}); err != nil {
		return nil, toStatus(err)
	}
	return &pb.Empty{}, nil
}

func (s *serviceServer) Handle(ctx context.Context, req *pb.EnvelopeMsg) (*pb.EnvelopeList, error) {
	var env envelope.Envelope
	if err := env.UnmarshalBinary(req.GetEnvelope()); err != nil {
		return nil, toStatus(fmt.Errorf("service: handle: %w", err))
	}
	replies, err := s.impl.Handle(ctx, &env)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.EnvelopeList{}
	for i, r := range replies {
		b, err := r.MarshalBinary()
		if err != nil {
			return nil, toStatus(fmt.Errorf("service: handle: reply %d: %w", i, err))
		}
		out.Envelopes = append(out.Envelopes, b)
	}
	return out, nil
}

func (s *serviceServer) Stop(ctx context.Context, _ *pb.Empty) (*pb.Empty, error) {
	err := s.impl.Stop(ctx)
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.Empty{}, nil
}

// hostCaller is the service.Host a plugin's service gets: Send calls back
// into the host through the broker connection.
type hostCaller struct {
	rpc pb.ServiceHostClient
}

func (h *hostCaller) Send(ctx context.Context, env *envelope.Envelope) error {
	b, err := env.MarshalBinary()
	if err != nil {
		return fmt.Errorf("service: host send: %w", err)
	}
	if _, err := h.rpc.Send(ctx, &pb.EnvelopeMsg{Envelope: b}); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("service: host send: %w", ctx.Err())
		}
		st := status.Convert(err)
		if st.Code() == codes.Unavailable || st.Code() == codes.Canceled {
			// Not ErrPluginGone: from here it is the host that is gone
			// (or has stopped this service).
			return fmt.Errorf("service: host send: host unavailable: %s", st.Message())
		}
		return fmt.Errorf("service: host send: %w", fromCode(st.Code(), st.Message()))
	}
	return nil
}

// hostServer serves pb.ServiceHost on the host for one started service.
type hostServer struct {
	pb.UnimplementedServiceHostServer
	h service.Host
}

func (s *hostServer) Send(ctx context.Context, req *pb.EnvelopeMsg) (*pb.Empty, error) {
	var env envelope.Envelope
	if err := env.UnmarshalBinary(req.GetEnvelope()); err != nil {
		return nil, toStatus(fmt.Errorf("service: host send: %w", err))
	}
	if err := s.h.Send(ctx, &env); err != nil {
		return nil, toStatus(err)
	}
	return &pb.Empty{}, nil
}

// serviceClient is the host side service.Service of a plugin process.
type serviceClient struct {
	baseClient
	rpc    pb.ServiceClient
	broker *plugin.GRPCBroker

	mu     sync.Mutex
	server *grpc.Server // serving the current Host through the broker
}

var _ service.Service = (*serviceClient)(nil)

func newServiceClient(conn grpc.ClientConnInterface, broker *plugin.GRPCBroker) *serviceClient {
	return &serviceClient{baseClient: newBaseClient(conn), rpc: pb.NewServiceClient(conn), broker: broker}
}

// Start serves h through the go-plugin broker and tells the plugin where.
func (c *serviceClient) Start(ctx context.Context, h service.Host) error {
	const op = "service: start"
	id := c.broker.NextId()
	srvCh := make(chan *grpc.Server, 1)
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := NewGRPCServer(opts)
		pb.RegisterServiceHostServer(s, &hostServer{h: h})
		srvCh <- s
		return s
	})
	_, err := c.rpc.Start(ctx, &pb.ServiceStartRequest{BrokerId: id})
	// AcceptAndServe builds its server before the plugin can connect, so
	// after a successful Start it is there; after a failure it may not be.
	var srv *grpc.Server
	select {
	case srv = <-srvCh:
	default:
		if err == nil {
			srv = <-srvCh
		}
	}
	if err != nil {
		if srv != nil {
			srv.Stop()
		} else {
			go func() {
				select {
				case s := <-srvCh:
					s.Stop()
				case <-ctx.Done():
				}
			}()
		}
		return clientErr(ctx, op, err)
	}
	c.mu.Lock()
	old := c.server
	c.server = srv
	c.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	return nil
}

func (c *serviceClient) Handle(ctx context.Context, env *envelope.Envelope) ([]*envelope.Envelope, error) {
	const op = "service: handle"
	b, err := env.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	resp, err := c.rpc.Handle(ctx, &pb.EnvelopeMsg{Envelope: b})
	if err != nil {
		return nil, clientErr(ctx, op, err)
	}
	out := make([]*envelope.Envelope, 0, len(resp.GetEnvelopes()))
	for i, rb := range resp.GetEnvelopes() {
		var e envelope.Envelope
		if err := e.UnmarshalBinary(rb); err != nil {
			return nil, fmt.Errorf("%s: reply %d from plugin: %w", op, i, err)
		}
		out = append(out, &e)
	}
	return out, nil
}

func (c *serviceClient) Stop(ctx context.Context) error {
	_, err := c.rpc.Stop(ctx, &pb.Empty{})
	c.mu.Lock()
	srv := c.server
	c.server = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Stop()
	}
	return clientErr(ctx, "service: stop", err)
}
