package wire

import (
	"context"
	"math"
	"sync"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/mem"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// MaxMessageSize is the gRPC message limit both sides use: room for a full
// packet batch, or a Handle reply of several maximum-size envelopes.
const MaxMessageSize = 64 << 20

// bufferPool serves gRPC's receive buffers. gRPC's default tiers jump
// from 32 KiB to 1 MiB, so every packet batch in between would take, and
// zero, a whole MiB; power-of-two tiers up to 2 MiB fit batches closely.
var bufferPool = sync.OnceValue(func() mem.BufferPool {
	p, err := mem.NewBinaryTieredBufferPool(8, 12, 14, 15, 16, 17, 18, 19, 20, 21)
	if err != nil {
		return mem.DefaultBufferPool()
	}
	return p
})

// ServerOptions returns the options every gRPC server of this contract
// needs on top of go-plugin's.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		experimental.BufferPool(bufferPool()),
	}
}

// NewGRPCServer is a go-plugin ServeConfig.GRPCServer (and broker server
// factory) with the contract's message limits.
func NewGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, ServerOptions()...)...)
}

// DialOptions returns the dial options a connection of this contract needs.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(math.MaxInt32),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
		experimental.WithBufferPool(bufferPool()),
	}
}

// BasePlugin is the go-plugin plugin "base". Impl is set on the plugin side
// only.
type BasePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl base.Plugin
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *BasePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBaseServer(s, &baseServer{impl: p.Impl})
	return nil
}

// GRPCClient implements plugin.GRPCPlugin; it returns a base.Plugin.
func (p *BasePlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return newBaseClient(c), nil
}

// TransportPlugin is the go-plugin plugin "transport".
type TransportPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl transport.Transport
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *TransportPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterTransportServer(s, newTransportServer(p.Impl))
	return nil
}

// GRPCClient implements plugin.GRPCPlugin; it returns a *TransportClient.
func (p *TransportPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewTransportClient(c), nil
}

// ServicePlugin is the go-plugin plugin "service".
type ServicePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl service.Service
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *ServicePlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterServiceServer(s, &serviceServer{impl: p.Impl, broker: broker})
	return nil
}

// GRPCClient implements plugin.GRPCPlugin; it returns a service.Service.
func (p *ServicePlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return newServiceClient(c, broker), nil
}
