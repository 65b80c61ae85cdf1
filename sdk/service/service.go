package service

import (
	"context"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// Host is the host callback a running service uses.
type Host interface {
	// Send puts an envelope on the host bus, as if an application had sent it.
	Send(ctx context.Context, env *envelope.Envelope) error
}

// Service is the role interface of a service plugin.
type Service interface {
	base.Plugin
	Start(ctx context.Context, h Host) error
	// Handle processes one envelope and returns any replies.
	Handle(ctx context.Context, env *envelope.Envelope) ([]*envelope.Envelope, error)
	Stop(ctx context.Context) error
}
