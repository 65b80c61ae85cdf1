package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onemfive/onemfive/host/api"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/supervisor"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
)

// ServicePrefix addresses a service on this node: To = "service:NAME".
const ServicePrefix = service.ServicePrefix

// serviceCall is an envelope waiting in the services stage.
type serviceCall struct {
	name string
	env  *envelope.Envelope
	// origin is where replies without a To go: the sender's node id for
	// envelopes that came over the network, "" for local applications.
	origin string
}

// localService reports whether env is for a service on this node, and its name.
func localService(env *envelope.Envelope) (string, bool) {
	name, ok := strings.CutPrefix(env.To, ServicePrefix)
	return name, ok && name != ""
}

// dispatchService queues a call to a local service plugin. It refuses at
// once (rather than queueing) when no such service is configured.
func (d *Daemon) dispatchService(ctx context.Context, c serviceCall) error {
	if _, err := d.sup().Service(c.name); errors.Is(err, supervisor.ErrUnknownService) {
		return fmt.Errorf("%w: %w", api.ErrNotFound, err)
	}
	return d.svcStage.Submit(ctx, c)
}

// handleService runs one call and routes the replies.
func (d *Daemon) handleService(ctx context.Context, c serviceCall) error {
	svc, err := d.sup().Service(c.name)
	if err != nil {
		return err
	}
	replies, err := svc.Handle(ctx, c.env)
	if err != nil {
		return fmt.Errorf("daemon: service %s: %w", c.name, err)
	}
	for _, r := range replies {
		if err := d.routeFromService(ctx, c.name, c.origin, r); err != nil {
			return err
		}
	}
	return nil
}

// routeFromService sends an envelope a service produced: to a remote node
// through the courier, to another local service, or into the local inbox.
func (d *Daemon) routeFromService(ctx context.Context, name, origin string, r *envelope.Envelope) error {
	if r.ID == "" {
		r.ID = envelope.NewID()
	}
	if r.Created.IsZero() {
		r.Created = time.Now().UTC()
	}
	if r.Kind == "" {
		r.Kind = envelope.KindService
	}
	if r.To == "" {
		r.To = origin
	}
	if r.To == "" || r.To == service.LocalInbox || r.To == string(d.id.ID()) {
		r.To = string(d.id.ID())
		return d.deliverLocal(ServicePrefix+name, r)
	}
	if target, ok := localService(r); ok {
		return d.dispatchService(ctx, serviceCall{name: target, env: r, origin: origin})
	}
	if _, _, err := node.ParseID(r.To); err != nil {
		return fmt.Errorf("daemon: service %s sent to %q, which is neither a node id nor %sNAME", name, r.To, ServicePrefix)
	}
	r.From = ""
	return d.courier.Send(ctx, r)
}

// deliverLocal puts an envelope produced on this node into the inbox,
// exactly once per (from, id), and announces it.
func (d *Daemon) deliverLocal(from string, r *envelope.Envelope) error {
	r.From = from
	if err := r.Validate(); err != nil {
		return fmt.Errorf("daemon: envelope from %s: %w", from, err)
	}
	b, err := r.MarshalBinary()
	if err != nil {
		return fmt.Errorf("daemon: envelope from %s: %w", from, err)
	}
	now := time.Now()
	seq, dup, err := d.store.Receive(from+"/"+r.ID, from, b, now)
	if err != nil {
		return fmt.Errorf("daemon: store envelope from %s: %w", from, err)
	}
	if !dup {
		item := client.InboxItem{Seq: seq, From: from, Received: now, Envelope: *r}
		d.hub.Publish(client.Event{Seq: seq, Type: client.EventEnvelope, Time: now, Envelope: &item})
	}
	return nil
}

// onServiceSend is the callback service plugins use to send on their own.
func (d *Daemon) onServiceSend(ctx context.Context, name string, env *envelope.Envelope) error {
	return d.routeFromService(ctx, name, "", env)
}
