package lan

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
)

// udpSock is one announcement socket (one per address family).
type udpSock struct {
	c  *net.UDPConn
	v6 bool
	mu sync.Mutex // serialises choosing the outgoing interface and writing
}

func closeSockets(socks []*udpSock) {
	for _, s := range socks {
		s.c.Close()
	}
}

// openSockets opens the IPv4 socket (and the IPv6 one when enabled and a
// link has IPv6) and joins the groups on every multicast-capable link. A
// link that cannot join is logged and still broadcasts.
func (t *Transport) openSockets(ctx context.Context, links []link) ([]*udpSock, error) {
	c4, err := listenUDP(ctx, false, t.cfg.port)
	if err != nil {
		return nil, fmt.Errorf("lan: announce socket: %w", err)
	}
	socks := []*udpSock{{c: c4}}
	port := c4.LocalAddr().(*net.UDPAddr).Port
	want6 := false
	for _, l := range links {
		want6 = want6 || (t.cfg.ipv6 && len(l.v6) > 0 && l.multicast())
	}
	if want6 {
		c6, err := listenUDP(ctx, true, port)
		if err != nil {
			// IPv4 still works; a host without IPv6 is not an error.
			t.log.Warn("no IPv6 announcements", "error", err)
		} else {
			socks = append(socks, &udpSock{c: c6, v6: true})
		}
	}
	for _, s := range socks {
		for _, l := range links {
			if !l.multicast() || (s.v6 && len(l.v6) == 0) || (!s.v6 && len(l.v4) == 0) {
				continue
			}
			g := t.cfg.group4
			if s.v6 {
				g = t.cfg.group6
			}
			if err := join(s.c, l.ifi, g); err != nil {
				t.log.Warn("cannot join the multicast group", "interface", l.ifi.Name, "group", g.String(), "error", err)
			}
		}
	}
	return socks, nil
}

// readLoop takes announcements from one socket until it is closed.
func (t *Transport) readLoop(s *udpSock) {
	defer t.wg.Done()
	buf := make([]byte, MaxFrameSize+1)
	for {
		n, src, err := s.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				t.log.Error("announcement socket failed", "error", err)
			}
			return
		}
		t.receive(buf[:n], src.Addr().Unmap().String(), time.Now())
	}
}

// receive handles one datagram from srcIP: rate limit, decode and verify,
// replay filter, then report to the host.
func (t *Transport) receive(b []byte, srcIP string, now time.Time) {
	t.mu.Lock()
	self, f, disc := t.self, t.filter, t.disc
	t.mu.Unlock()
	if !f.allow(srcIP, now) {
		t.limited.Add(1)
		return
	}
	h, err := verify(b, self)
	switch {
	case errors.Is(err, errSelf):
		return
	case err != nil:
		t.bad.Add(1)
		t.log.Debug("announcement dropped", "from", srcIP, "error", err)
		return
	}
	t.heard.Add(1)
	h.addr = linkAddr(h.rec.Addresses[Network], srcIP)
	switch f.admit(h, now) {
	case alive:
		return
	case replay, full:
		t.replays.Add(1)
		return
	}
	t.reported.Add(1)
	if disc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := disc.Discovered(ctx, h.addr, h.raw)
		cancel()
		if err != nil {
			t.log.Warn("host did not take a discovered peer", "peer", h.rec.ID.Short(), "error", err)
		}
	}
	seen := f.seen()
	t.log.Info("peer discovered", "peer", h.rec.ID.Short(), "addr", h.addr, "networks", networks(h.rec.Addresses), "seen", seen)
	t.event(transport.Event{State: transport.StateReady, Phase: "peer_seen", Peers: t.linkCount(),
		Summary: fmt.Sprintf("peer %s at %s (networks %v); %d peers seen", h.rec.ID.Short(), h.addr, networks(h.rec.Addresses), seen)})
}

// linkAddr picks the address to report for a peer: the one on the network
// the announcement came from, else the first.
func linkAddr(addrs []string, srcIP string) string {
	for _, a := range addrs {
		if host, _, err := net.SplitHostPort(a); err == nil && host == srcIP {
			return a
		}
	}
	return addrs[0]
}

func networks(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	return out
}

func (t *Transport) linkCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nlinks
}

// announceLoop sends this node's announcement every interval (with
// jitter) and at once when the record changes, at most four times an
// interval; and reports peers no longer heard.
func (t *Transport) announceLoop() {
	defer t.wg.Done()
	iv := t.cfg.interval
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-t.done:
			return
		case <-timer.C:
		case <-t.kick:
			if wait := iv/4 - time.Since(last); wait > 0 {
				// Too soon: the timer is at most an interval away, and
				// sends the new record then; pull it in.
				timer.Reset(wait)
				continue
			}
		}
		last = time.Now()
		t.announce()
		t.sweep(last)
		timer.Reset(iv - iv/8 + rand.N(iv/4+1))
	}
}

// announce sends one frame on every link.
func (t *Transport) announce() {
	t.mu.Lock()
	rec := t.record
	t.seq++
	seq := t.seq
	links, socks := t.links, t.socks
	t.mu.Unlock()
	if rec == nil {
		return
	}
	frame, err := appendFrame(nil, seq, rec)
	if err != nil {
		t.log.Error("cannot announce", "error", err)
		return
	}
	port := socks[0].c.LocalAddr().(*net.UDPAddr).Port
	for _, s := range socks {
		for _, l := range links {
			t.sendOn(s, l, frame, port)
		}
	}
	for _, u := range t.cfg.unicast {
		if _, err := socks[0].c.WriteToUDP(frame, u); err != nil {
			t.log.Debug("unicast announcement failed", "to", u.String(), "error", err)
		}
	}
}

// sendOn sends frame to the group (and broadcast address) of link l over s.
// Errors are expected while a link is down and only logged at debug.
func (t *Transport) sendOn(s *udpSock, l link, frame []byte, port int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(to string, err error) {
		t.log.Debug("announcement not sent", "interface", l.ifi.Name, "to", to, "error", err)
	}
	if s.v6 {
		if len(l.v6) == 0 || !l.multicast() {
			return
		}
		if err := setMulticastIf(s.c, true, l.ifi); err != nil {
			fail("group6", err)
			return
		}
		dst := &net.UDPAddr{IP: t.cfg.group6, Port: port, Zone: l.ifi.Name}
		if _, err := s.c.WriteToUDP(frame, dst); err != nil {
			fail(dst.String(), err)
		}
		return
	}
	if len(l.v4) == 0 {
		return
	}
	if l.multicast() {
		if err := setMulticastIf(s.c, false, l.ifi); err != nil {
			fail("group", err)
		} else if _, err := s.c.WriteToUDP(frame, &net.UDPAddr{IP: t.cfg.group4, Port: port}); err != nil {
			fail(t.cfg.group4.String(), err)
		}
	}
	if t.cfg.broadcast && l.ifi.Flags&net.FlagBroadcast != 0 {
		for _, n := range l.v4 {
			if b := broadcastAddr(n); b != nil {
				if _, err := s.c.WriteToUDP(frame, &net.UDPAddr{IP: b, Port: port}); err != nil {
					fail(b.String(), err)
				}
			}
		}
	}
}

// sweep reports peers not heard for three intervals.
func (t *Transport) sweep(now time.Time) {
	lost := t.filter.sweep(now, 3*t.cfg.interval)
	if len(lost) == 0 {
		return
	}
	seen := t.filter.seen()
	for id, addr := range lost {
		t.log.Info("peer no longer heard", "peer", id.Short(), "addr", addr, "seen", seen)
		t.event(transport.Event{State: transport.StateReady, Phase: "peer_lost", Peers: t.linkCount(),
			Summary: fmt.Sprintf("peer %s at %s no longer heard; %d peers seen", id.Short(), addr, seen)})
	}
}
