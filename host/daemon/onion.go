package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/overlay"
	"github.com/onemfive/onemfive/host/store"
	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/transport"
)

// onionNetwork is the courier's name for the onion layer: an envelope
// routed there goes out as fragments over onion paths; its address is the
// destination node id or a reply handle (overlay.IsHandle).
const onionNetwork = "onion"

func (d *Daemon) startOverlay(ctx context.Context) error {
	oc := d.cfg.Onion
	if !oc.Enabled {
		d.log.Warn("onion layer disabled: this node neither relays nor sends over onion paths")
		return nil
	}
	var obs io.Writer
	if oc.ObserveLog != "" {
		f, err := os.OpenFile(oc.ObserveLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("daemon: onion observation log: %w", err)
		}
		d.obsFile, obs = f, f
		d.log.Warn("onion observation log is on (test mode): every packet this node handles is recorded", "path", oc.ObserveLog)
	}
	guards := make([]node.ID, 0, len(oc.Guards))
	for _, g := range oc.Guards {
		guards = append(guards, node.ID(g))
	}
	o, err := overlay.New(overlay.Config{
		Identity: d.id, Store: d.store, Net: networks{d},
		SelfAddresses: func() map[string][]string {
			if d.sup() == nil {
				return nil
			}
			return d.sup().Addresses()
		},
		Replay: store.NewReplayCache(d.store), Queue: store.NewMixQueue(d.store), ReplyKeys: store.NewReplyKeys(d.store),
		Deliver: func(ctx context.Context, handle string, sealed []byte) error {
			return d.courier.HandlePacket(ctx, onionNetwork, transport.Packet{Addr: handle, Data: sealed})
		},
		KeysChanged: func() {
			if d.courier == nil {
				return // the courier step publishes the first record
			}
			if err := d.refreshRecord(); err != nil {
				d.log.Error("refresh node record after mix-key rotation", "error", err)
			}
		},
		Resolved: func(id node.ID) {
			if d.courier != nil {
				d.courier.RetryNow(id)
			}
		},
		Suspected: func() {
			if d.courier != nil {
				d.courier.RetryAll()
			}
		},
		Guards: guards, AutoGuard: true, Publish: oc.Publish, ClientOnly: oc.ClientOnly, LeaseLifetime: oc.LeaseLifetime,
		ProbeInterval: oc.ProbeInterval,
		Observe:       obs, Logger: d.log.Named("onion"),
	})
	if err != nil {
		d.closeObs()
		return err
	}
	d.overlay = o
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.overlayCancel = cancel
	d.overlayWG.Go(func() { o.Run(runCtx) })
	return nil
}

func (d *Daemon) stopOverlay(context.Context) error {
	if d.overlay == nil {
		return nil
	}
	d.overlayCancel()
	d.overlayWG.Wait()
	d.overlay.Close()
	d.closeObs()
	return nil
}

func (d *Daemon) closeObs() {
	if d.obsFile != nil {
		_ = d.obsFile.Close()
		d.obsFile = nil
	}
}

// mixRecords are the mix-key records for this node's peer record.
func (d *Daemon) mixRecords() [][]byte {
	if d.overlay == nil {
		return nil
	}
	return d.overlay.MixRecords()
}

// onionParams turns a policy step into how a message travels.
func onionParams(r policy.RoutePlan) overlay.Params {
	hops := r.Hops.Min
	if r.Hops.Max > r.Hops.Min {
		hops += rand.IntN(r.Hops.Max - r.Hops.Min + 1)
	}
	p := overlay.Params{Hops: min(max(hops, 0), onion.MaxHops-1), DelayMin: r.Delay.Min, DelayMax: r.Delay.Max}
	p.Networks = r.HopNetworks
	if len(p.Networks) == 0 {
		p.Networks = []string{r.Network}
	}
	return p
}

// onionRoute decides whether an envelope for dest goes over onion paths
// for the policy step r; why says what stands in the way when it cannot.
func (d *Daemon) onionRoute(dest *node.Record, r policy.RoutePlan, replies int) (overlay.Params, error) {
	if d.overlay == nil {
		return overlay.Params{}, errors.New("the onion layer is disabled")
	}
	p := onionParams(r)
	p.Replies = replies
	if err := d.overlay.CanRoute(dest.ID, p); err != nil {
		return p, err
	}
	return p, nil
}

// onionAddr is the courier address of an envelope for id over onion paths
// with p: the id with the parameters after a '?', so that each batch the
// courier sends carries its own (two envelopes to one node may follow
// different steps: a relayed web frame and a message).
func onionAddr(id node.ID, p overlay.Params) string {
	v := url.Values{}
	v.Set("hops", strconv.Itoa(p.Hops))
	if p.DelayMin > 0 || p.DelayMax > 0 {
		v.Set("delay", p.DelayMin.String()+".."+p.DelayMax.String())
	}
	if len(p.Networks) > 0 {
		v.Set("net", strings.Join(p.Networks, ","))
	}
	if p.Replies > 0 {
		v.Set("replies", strconv.Itoa(p.Replies))
	}
	return string(id) + "?" + v.Encode()
}

// parseOnionAddr reverses onionAddr. A bare address (a reply handle, or an
// id without parameters) gets two hops.
func parseOnionAddr(addr string) (string, overlay.Params, error) {
	p := overlay.Params{Hops: 2}
	dest, q, ok := strings.Cut(addr, "?")
	if !ok {
		return addr, p, nil
	}
	v, err := url.ParseQuery(q)
	if err != nil {
		return "", p, fmt.Errorf("daemon: onion address %q: %w", addr, err)
	}
	if p.Hops, err = strconv.Atoi(v.Get("hops")); err != nil || p.Hops < 0 || p.Hops >= onion.MaxHops {
		return "", p, fmt.Errorf("daemon: onion address %q: bad hops", addr)
	}
	if d := v.Get("delay"); d != "" {
		lo, hi, _ := strings.Cut(d, "..")
		a, err1 := time.ParseDuration(lo)
		b, err2 := time.ParseDuration(hi)
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return "", p, fmt.Errorf("daemon: onion address %q: bad delay", addr)
		}
		p.DelayMin, p.DelayMax = a, b
	}
	if n := v.Get("net"); n != "" {
		p.Networks = strings.Split(n, ",")
	}
	if r := v.Get("replies"); r != "" {
		if p.Replies, err = strconv.Atoi(r); err != nil || p.Replies < 0 || p.Replies > overlay.MaxReplies {
			return "", p, fmt.Errorf("daemon: onion address %q: bad replies", addr)
		}
	}
	return dest, p, nil
}

// sendOnion is networks.Send for the onion layer.
func (d *Daemon) sendOnion(ctx context.Context, pkts []transport.Packet) error {
	if d.overlay == nil {
		return errors.New("daemon: the onion layer is disabled")
	}
	var errs []error
	for _, pkt := range pkts {
		dest, p, err := parseOnionAddr(pkt.Addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, d.overlay.Send(ctx, dest, pkt.Data, p))
	}
	return errors.Join(errs...)
}
