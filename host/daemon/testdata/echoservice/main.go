// Command onemfive-service-echo is a test service plugin: it answers every
// envelope with "echo: " + its payload, and on an envelope whose operation
// is "announce" it also sends one envelope of its own through the host
// callback.
package main

import (
	"context"
	"sync"

	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
)

type echo struct {
	mu   sync.Mutex
	host service.Host
}

func (*echo) Info(context.Context) (base.Info, error) {
	return base.Info{Name: "echo", Kind: base.KindService, Version: "0.1.0", APIVersions: []int{sdk.APIVersion}}, nil
}

func (*echo) Configure(context.Context, base.Config) error { return nil }

func (e *echo) Start(_ context.Context, h service.Host) error {
	e.mu.Lock()
	e.host = h
	e.mu.Unlock()
	return nil
}

func (e *echo) Handle(ctx context.Context, env *envelope.Envelope) ([]*envelope.Envelope, error) {
	if env.Operation == "announce" {
		e.mu.Lock()
		h := e.host
		e.mu.Unlock()
		note := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindService, To: service.LocalInbox, Payload: []byte("announced")}
		if err := h.Send(ctx, note); err != nil {
			return nil, err
		}
	}
	to := env.ReplyTo
	if to == "" {
		to = env.From // a node id, or service.LocalInbox for a local application
	}
	reply := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindService, To: to, ContentType: "text/plain",
		Payload: append([]byte("echo: "), env.Payload...), Headers: map[string]string{"in-reply-to": env.ID}}
	return []*envelope.Envelope{reply}, nil
}

func (*echo) Stop(context.Context) error { return nil }

func main() { sdk.ServeService(&echo{}) }
