package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/onemfive/onemfive/host/web"
	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// webRouter is the web proxy's view of the daemon: web plans from the
// ManCon engine, streams from the transport plugins.
type webRouter struct{ d *Daemon }

func (r webRouter) Plan(host string, level envelope.ManCon) (policy.Plan, error) {
	return r.d.mc.Plan(policy.Request{Kind: envelope.KindWeb, To: host, ManCon: level}, backend(r).policyPeers())
}

func (r webRouter) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if !r.d.sup().Ready(network) {
		return nil, fmt.Errorf("%s is not ready here", network)
	}
	dl, err := r.d.sup().Dialer(network)
	if err != nil {
		return nil, err
	}
	return dl.Dial(ctx, addr)
}

func (d *Daemon) startWeb(ctx context.Context) error {
	if d.cfg.Web.Listen == "" {
		return nil
	}
	p, err := web.New(web.Config{Token: d.token, Router: webRouter{d}, Log: d.log.Named("web"),
		DialTimeout: d.cfg.Web.DialTimeout, Done: d.webDone})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", d.cfg.Web.Listen)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", d.cfg.Web.Listen, err)
	}
	d.web, d.webAddr = p, ln.Addr().String()
	go func() {
		if err := p.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("web proxy stopped", "error", err)
		}
	}()
	d.log.Info("web proxy listening", "addr", d.webAddr)
	return nil
}

func (d *Daemon) stopWeb(ctx context.Context) error {
	if d.web == nil {
		return nil
	}
	return d.web.Shutdown(ctx)
}

// WebAddr is the web proxy's listen address once started, "" without one.
func (d *Daemon) WebAddr() string { return d.webAddr }

// webDone reports each proxied request's outcome: a success counts for the
// ratchet's step-down, a failure is an event (what was tried and why).
func (d *Daemon) webDone(host, network string, err error) {
	if err == nil {
		d.mc.Success(network)
		return
	}
	d.hub.Publish(client.Event{Type: client.EventDelivery, Time: time.Now(), Message: "web request failed: " + err.Error(),
		Data: map[string]any{"kind": "web", "host": host, "state": "failed"}})
}
