package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
)

func TestServiceCallback(t *testing.T) {
	c, _ := pair(t, nil, &fakeService{})
	ctx := ctxT(t)
	raw, err := c.Dispense("service")
	if err != nil {
		t.Fatal(err)
	}
	svc := raw.(service.Service)
	info, err := svc.Info(ctx)
	if err != nil || info.Kind != base.KindService {
		t.Fatalf("info %+v %v", info, err)
	}
	h := &recServiceHost{}
	if err := svc.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	in := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindService, From: "app", To: "svc", Operation: "callback",
		Payload: []byte("ping"), Created: time.Now(), ManCon: envelope.HIGH, Headers: map[string]string{"k": "v"}}
	replies, err := svc.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 2 || replies[0].To != "app" || string(replies[0].Payload) != "ping" || replies[0].ManCon != envelope.HIGH ||
		replies[0].Headers["k"] != "v" || !replies[0].Created.Equal(in.Created) {
		t.Fatalf("replies %+v", replies)
	}
	h.mu.Lock()
	if len(h.envs) != 1 || h.envs[0].Operation != "notify" || string(h.envs[0].Payload) != "ping" {
		t.Fatalf("host callback got %+v", h.envs)
	}
	h.err = fmt.Errorf("bus: %w: full", envelope.ErrInvalid)
	h.mu.Unlock()
	// The host's error travels back to the service and out of Handle.
	_, err = svc.Handle(ctx, in)
	if err == nil || !strings.Contains(err.Error(), "svc: callback") || !strings.Contains(err.Error(), "bus:") {
		t.Fatalf("callback error: %v", err)
	}
	// A plugin's invalid reply is refused at the boundary.
	in.Operation = "broken-reply"
	if _, err := svc.Handle(ctx, in); !errors.Is(err, envelope.ErrInvalid) {
		t.Fatalf("broken reply: %v", err)
	}
	// An invalid envelope never leaves the host.
	if _, err := svc.Handle(ctx, &envelope.Envelope{}); !errors.Is(err, envelope.ErrInvalid) {
		t.Fatalf("invalid request: %v", err)
	}
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestServicePluginGone(t *testing.T) {
	c, server := pair(t, nil, &fakeService{})
	ctx := ctxT(t)
	raw, _ := c.Dispense("service")
	svc := raw.(service.Service)
	if err := svc.Start(ctx, &recServiceHost{}); err != nil {
		t.Fatal(err)
	}
	server.Stop()
	env := &envelope.Envelope{ID: "x", Kind: envelope.KindService, To: "svc"}
	if _, err := svc.Handle(ctx, env); !errors.Is(err, ErrPluginGone) {
		t.Fatalf("handle: %v", err)
	}
	if err := svc.Stop(ctx); !errors.Is(err, ErrPluginGone) {
		t.Fatalf("stop: %v", err)
	}
}

func TestServiceHostGoneIsNotPluginGone(t *testing.T) {
	fs := &fakeService{}
	c, _ := pair(t, nil, fs)
	ctx := ctxT(t)
	raw, _ := c.Dispense("service")
	svc := raw.(service.Service)
	if err := svc.Start(ctx, &recServiceHost{}); err != nil {
		t.Fatal(err)
	}
	fs.mu.Lock()
	h := fs.host
	fs.mu.Unlock()
	if err := svc.Stop(ctx); err != nil { // also stops serving the Host
		t.Fatal(err)
	}
	err := h.Send(ctx, &envelope.Envelope{ID: "x", Kind: envelope.KindService, To: "y"})
	if err == nil || errors.Is(err, ErrPluginGone) || !strings.HasPrefix(err.Error(), "service: host send: ") {
		t.Fatalf("send through a stopped host: %v", err)
	}
}
