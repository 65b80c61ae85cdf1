package service

import (
	"context"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// Destinations a service can use in Envelope.To besides a node id.
const (
	// LocalInbox delivers to this node's inbox, for local applications.
	LocalInbox = "local"
	// ServicePrefix + NAME addresses another service on this node.
	ServicePrefix = "service:"
)

// Host is the host callback a running service uses.
type Host interface {
	// Send puts an envelope on the host bus, as if an application had sent
	// it: To is a node id, LocalInbox or ServicePrefix+NAME.
	Send(ctx context.Context, env *envelope.Envelope) error
}

// Service is the role interface of a service plugin.
type Service interface {
	base.Plugin
	Start(ctx context.Context, h Host) error
	// Handle processes one envelope and returns any replies. Replies are
	// complete envelopes (ID, Kind, To); a reply usually goes to
	// env.ReplyTo or, when that is empty, env.From (a node id, or
	// LocalInbox when a local application made the call).
	Handle(ctx context.Context, env *envelope.Envelope) ([]*envelope.Envelope, error)
	Stop(ctx context.Context) error
}
