package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/webrelay"
	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// relayFrameTTL bounds how long a relayed stream's frame is retried: a
// stream whose frames are that late is dead anyway.
const relayFrameTTL = 2 * time.Minute

// maxRelayCandidates bounds the peers one web request tries; a peer that
// said it does not relay is skipped for refusedFor.
const (
	maxRelayCandidates = 8
	refusedFor         = 10 * time.Minute
)

// relayReplies is how many reply blocks each frame to a relay peer carries
// when it travels over onion paths: the peer sends a 4 KiB frame on about
// four, and this node sends a frame (an acknowledgement) every two it
// reads, so twelve per frame, with the three of each courier
// acknowledgement, keep the peer supplied.
const relayReplies = 12

func (d *Daemon) startRelay(context.Context) error {
	r, err := webrelay.New(webrelay.Config{Send: d.sendFrame, Dial: d.relayDial, Serve: d.cfg.Web.Relay,
		OpenTimeout: d.cfg.Web.DialTimeout, Log: d.log.Named("webrelay")})
	if err != nil {
		return err
	}
	d.relay = r
	if d.cfg.Web.Relay {
		d.log.Info("relaying web requests for peers", "networks", "those the peers ask for, when ready here")
	}
	return nil
}

func (d *Daemon) stopRelay(context.Context) error {
	d.relay.Close()
	return nil
}

// sendFrame sends a relayed stream's frame to peer in an envelope of its
// own; route, on the requester's side, is the policy step the stream
// follows (its network and onion hops).
func (d *Daemon) sendFrame(ctx context.Context, peer string, frame []byte, route any) error {
	env := &envelope.Envelope{ID: envelope.NewID(), Created: time.Now(), Kind: envelope.KindWeb, To: peer,
		Service: webrelay.Service, Payload: frame, TTL: relayFrameTTL}
	if rp, ok := route.(policy.RoutePlan); ok {
		d.forced.Store(env.ID, rp)
	}
	if err := d.courier.Send(ctx, env); err != nil {
		d.forced.Delete(env.ID)
		return err
	}
	return nil
}

// interceptRelay takes relayed stream frames out of the inbound path.
func (d *Daemon) interceptRelay(from node.ID, env *envelope.Envelope) bool {
	if env.Service != webrelay.Service {
		return false
	}
	if d.relay == nil {
		return true // starting or stopping: the sender retransmits
	}
	if err := d.relay.Handle(context.Background(), string(from), env.Payload); err != nil {
		d.log.Debug("relayed web frame dropped", "from", from.Short(), "error", err)
	}
	return true
}

// relayDial is the relay side's dialler: the first of networks that this
// node relays over (web.relay_networks) and that is ready here.
func (d *Daemon) relayDial(ctx context.Context, networks []string, addr string) (net.Conn, string, error) {
	var errs []error
	for _, n := range networks {
		if !slices.Contains(d.cfg.Web.RelayNetworks, n) {
			errs = append(errs, fmt.Errorf("this node relays over %v only, not %s", d.cfg.Web.RelayNetworks, n))
			continue
		}
		if !d.sup.Ready(n) {
			errs = append(errs, fmt.Errorf("%s is not ready here", n))
			continue
		}
		dl, err := d.sup.Dialer(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := dl.Dial(ctx, addr)
		if err == nil {
			return c, n, nil
		}
		errs = append(errs, err)
	}
	return nil, "", errors.Join(errs...)
}

// RelayDial implements web.RelayDialer: a stream to addr through one of
// the step's candidate peers, which dials it over one of the networks the
// step asks the peer to have.
func (r webRouter) RelayDial(ctx context.Context, route policy.RoutePlan, addr string) (net.Conn, string, error) {
	if len(route.Via) != 1 {
		return nil, "", fmt.Errorf("a chain of %d relay peers is not built yet (one is)", len(route.Via))
	}
	opt := webrelay.DefaultOptions
	if route.Hops.Max > 0 {
		// Over onion paths the relay answers on reply blocks this node's
		// frames carry (relayReplies each): small frames and a small
		// window keep what it needs in flight within that supply.
		opt = webrelay.OnionOptions
	}
	v := route.Via[0]
	if len(v.PeerHas) == 0 {
		return nil, "", errors.New("the step names no network the relay peer must have")
	}
	cands := slices.Clone(v.Candidates)
	if len(cands) == 0 {
		return nil, "", fmt.Errorf("no known peer over %s has %v", route.Network, v.PeerHas)
	}
	var errs []error
	tried, skipped := 0, 0
	for _, p := range cands {
		if tried == maxRelayCandidates {
			break
		}
		if t, ok := r.d.refused.Load(p); ok && time.Since(t.(time.Time)) < refusedFor {
			skipped++
			continue
		}
		tried++
		s, network, err := r.d.relay.Dial(ctx, p, v.PeerHas, addr, opt, route)
		if err == nil {
			return s, fmt.Sprintf("%s via %s (%s)", route.Network, node.ID(p).Short(), network), nil
		}
		if errors.Is(err, webrelay.ErrRefused) {
			r.d.refused.Store(p, time.Now())
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if skipped > 0 {
		errs = append(errs, fmt.Errorf("%d more peers skipped: they said lately that they do not relay web requests", skipped))
	}
	return nil, "", errors.Join(errs...)
}
