package daemon

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/web"
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
// node relays over (web.relay_networks) and that is ready here;
// web.AnyNetwork stands for each of web.relay_networks. With via set it
// forwards the stream to a peer it knows that fits via[0] instead.
func (d *Daemon) relayDial(ctx context.Context, from string, networks []string, addr string, via []webrelay.Hop) (net.Conn, string, error) {
	if len(via) > 0 {
		return d.forwardRelay(ctx, from, networks, addr, via)
	}
	var errs []error
	var expanded []string
	for _, n := range networks {
		if n == web.AnyNetwork {
			expanded = append(expanded, d.cfg.Web.RelayNetworks...)
			continue
		}
		expanded = append(expanded, n)
	}
	seen := map[string]bool{}
	for _, n := range expanded {
		if seen[n] {
			continue
		}
		seen[n] = true
		if !slices.Contains(d.cfg.Web.RelayNetworks, n) {
			errs = append(errs, fmt.Errorf("this node relays over %v only, not %s", d.cfg.Web.RelayNetworks, n))
			continue
		}
		if !d.sup().Ready(n) {
			errs = append(errs, fmt.Errorf("%s is not ready here", n))
			continue
		}
		dl, err := d.sup().Dialer(n)
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
	if len(errs) == 0 {
		errs = append(errs, errors.New("no network to fetch over"))
	}
	return nil, "", errors.Join(errs...)
}

// forwardRelay carries an open that names further peers: to a peer this
// node knows over via[0].Network with via[0].PeerHas, never the one that
// asked (from) nor this node.
func (d *Daemon) forwardRelay(ctx context.Context, from string, networks []string, addr string, via []webrelay.Hop) (net.Conn, string, error) {
	h := via[0]
	if !d.sup().Ready(h.Network) {
		return nil, "", fmt.Errorf("cannot forward over %s: not ready here", h.Network)
	}
	cands := policy.Candidates(backend{d}.policyPeers(), policy.Relay{Network: h.Network, PeerHas: h.PeerHas})
	cands = slices.DeleteFunc(cands, func(p string) bool { return p == string(d.id.ID()) || p == from })
	if len(cands) == 0 {
		return nil, "", fmt.Errorf("no peer known here over %s has %v", h.Network, h.PeerHas)
	}
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	route := policy.RoutePlan{Network: h.Network, Step: "forwarded web stream", Rule: "via"}
	return webRouter{d}.tryRelays(ctx, cands, func(p string) (net.Conn, string, error) {
		return d.relay.Forward(ctx, p, networks, addr, via, route)
	})
}

// RelayDial implements web.RelayDialer: a stream to addr through one of
// the step's candidate peers, which dials it over one of the networks the
// step asks the peer to have.
func (r webRouter) RelayDial(ctx context.Context, route policy.RoutePlan, addr string) (net.Conn, string, error) {
	if len(route.Via) > 1+webrelay.MaxVia {
		return nil, "", fmt.Errorf("a chain of %d relay peers; at most %d", len(route.Via), 1+webrelay.MaxVia)
	}
	opt := webrelay.DefaultOptions
	if route.Hops.Max > 0 {
		// Over onion paths the relay answers on reply blocks this node's
		// frames carry (relayReplies each): small frames and a small
		// window keep what it needs in flight within that supply.
		opt = webrelay.OnionOptions
	}
	// The last peer fetches over the networks it must have; the peers
	// before it forward, each choosing the next among those it knows.
	v, last := route.Via[0], route.Via[len(route.Via)-1]
	if len(last.PeerHas) == 0 {
		return nil, "", errors.New("the step names no network the fetching peer must have")
	}
	for _, h := range route.Via[1:] {
		opt.Via = append(opt.Via, webrelay.Hop{Network: h.Network, PeerHas: h.PeerHas, DelayMin: h.Delay.Min, DelayMax: h.Delay.Max})
	}
	if len(v.Candidates) == 0 {
		return nil, "", fmt.Errorf("no known peer over %s has %v", route.Network, v.PeerHas)
	}
	return r.tryRelays(ctx, v.Candidates, func(p string) (net.Conn, string, error) {
		s, network, err := r.d.relay.Dial(ctx, p, last.PeerHas, addr, opt, route)
		if err != nil {
			return nil, "", err
		}
		return s, fmt.Sprintf("%s via %s (%s)", route.Network, node.ID(p).Short(), network), nil
	})
}

// RelayViaPeers implements web.PeerRelayer (on_failure relay_via_peers):
// each peer in turn is asked to fetch addr over one of networks. Frames go
// to it without onion hops (the answer comes back directly, as the action
// says) over a network it shares with this node, Tor and I2P first.
func (r webRouter) RelayViaPeers(ctx context.Context, peers, networks []string, addr string) (net.Conn, string, error) {
	return r.tryRelays(ctx, peers, func(p string) (net.Conn, string, error) {
		over, err := r.d.reachOver(node.ID(p))
		if err != nil {
			return nil, "", err
		}
		route := policy.RoutePlan{Network: over, Step: string(policy.RelayViaPeers), Rule: "on_failure"}
		s, network, err := r.d.relay.Dial(ctx, p, networks, addr, webrelay.DefaultOptions, route)
		if err != nil {
			return nil, "", err
		}
		return s, fmt.Sprintf("relayed by %s over %s (%s)", node.ID(p).Short(), over, network), nil
	})
}

// reachOver is the network this node sends to peer over without onion
// hops: one both have and that is ready here, anonymous ones first.
func (d *Daemon) reachOver(peer node.ID) (string, error) {
	raw, err := d.store.Peer(string(peer))
	if err != nil {
		return "", fmt.Errorf("peer %s: %w", peer.Short(), err)
	}
	rec, err := node.DecodeRecord(raw)
	if err != nil {
		return "", fmt.Errorf("peer %s: %w", peer.Short(), err)
	}
	nets := make([]string, 0, len(rec.Addresses))
	for n := range rec.Addresses {
		if d.sup().Ready(n) {
			nets = append(nets, n)
		}
	}
	slices.SortFunc(nets, func(a, b string) int {
		aa, ba := d.mc.InClass(a, policy.ClassAnonymous), d.mc.InClass(b, policy.ClassAnonymous)
		if aa != ba {
			if aa {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(nets) == 0 {
		return "", fmt.Errorf("peer %s: no network it is on is ready here", peer.Short())
	}
	return nets[0], nil
}

// tryRelays calls dial for candidate peers in order, at most
// maxRelayCandidates of them, skipping those that refused lately.
func (r webRouter) tryRelays(ctx context.Context, cands []string, dial func(peer string) (net.Conn, string, error)) (net.Conn, string, error) {
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
		s, how, err := dial(p)
		if err == nil {
			return s, how, nil
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
	if len(errs) == 0 {
		errs = append(errs, errors.New("no peer to ask"))
	}
	return nil, "", errors.Join(errs...)
}
