package wire

import (
	"context"

	"google.golang.org/grpc"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/internal/pb"
)

// baseServer serves pb.Base for a plugin implementation.
type baseServer struct {
	pb.UnimplementedBaseServer
	impl base.Plugin
}

func (s *baseServer) Info(ctx context.Context, _ *pb.Empty) (*pb.PluginInfo, error) {
	i, err := s.impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return infoToPB(i), nil
}

func (s *baseServer) Configure(ctx context.Context, c *pb.Config) (*pb.Empty, error) {
	if err := s.impl.Configure(ctx, configFromPB(c)); err != nil {
		return nil, toStatus(err)
	}
	return &pb.Empty{}, nil
}

// baseClient is the host side base.Plugin of a plugin process. The transport
// and service clients embed it, so Info works before Configure and before
// any role method.
type baseClient struct {
	base pb.BaseClient
}

func newBaseClient(conn grpc.ClientConnInterface) baseClient {
	return baseClient{base: pb.NewBaseClient(conn)}
}

// Info implements base.Plugin.
func (c baseClient) Info(ctx context.Context) (base.Info, error) {
	m, err := c.base.Info(ctx, &pb.Empty{})
	if err != nil {
		return base.Info{}, clientErr(ctx, "plugin: info", err)
	}
	return infoFromPB(m), nil
}

// Configure implements base.Plugin.
func (c baseClient) Configure(ctx context.Context, cfg base.Config) error {
	_, err := c.base.Configure(ctx, configToPB(cfg))
	return clientErr(ctx, "plugin: configure", err)
}
