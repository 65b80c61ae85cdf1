package api

import (
	"context"
	"errors"

	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// Backend answers API requests. The daemon implements it; every method must
// be safe for concurrent use.
//
// Errors: wrap ErrInvalid for a bad argument (400), ErrNotFound (404) or
// ErrUnavailable (503, e.g. shutting down or the outbox is full);
// envelope.ErrInvalid also maps to 400. Anything else is a 500.
type Backend interface {
	// Status returns a snapshot of the daemon.
	Status(ctx context.Context) (client.Status, error)
	// Send accepts a valid envelope (ID, Created and Kind filled in) for
	// delivery.
	Send(ctx context.Context, env *envelope.Envelope) (client.SendResult, error)
	// Inbox returns up to limit (> 0) received envelopes with Seq > after,
	// in increasing Seq order.
	Inbox(ctx context.Context, after uint64, limit int) ([]client.InboxItem, error)
	// Subscribe returns live events until ctx is done, then closes the
	// channel. Contract the event stream relies on:
	//   - an envelope event (Type client.EventEnvelope, Seq and Envelope set)
	//     is published only after Inbox returns that item, and Seq values
	//     increase;
	//   - events are never dropped silently: if the subscriber falls too far
	//     behind, the backend closes the channel (the client then resumes by
	//     sequence number).
	Subscribe(ctx context.Context) (<-chan client.Event, error)
	// Node returns this node's signed peer record.
	Node(ctx context.Context) (client.NodeRecord, error)
	// AddPeer verifies and stores a peer record (base64, as Node returns it).
	AddPeer(ctx context.Context, record string) (client.PeerInfo, error)
	// Peers lists known peers.
	Peers(ctx context.Context) ([]client.PeerInfo, error)
	// ManCon returns the node's ManCon state.
	ManCon(ctx context.Context) (client.ManConStatus, error)
	// SetManCon sets the base level (a level name; ErrInvalid if unknown).
	SetManCon(ctx context.Context, level string) (client.ManConStatus, error)
	// Explain evaluates the policy for kind and destination at level (may
	// be empty) against live state. A plan without a usable route is not an
	// error: Explanation.NoRoute says so.
	Explain(ctx context.Context, kind, to, level string) (client.Explanation, error)
}

// Errors a Backend wraps to choose the HTTP status.
var (
	ErrInvalid     = errors.New("api: invalid request")
	ErrNotFound    = errors.New("api: not found")
	ErrUnavailable = errors.New("api: unavailable")
)
