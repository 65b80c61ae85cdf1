package direct

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
)

// conn is one TCP connection to a peer, in either direction. Its reader
// goroutine delivers packets; its keepalive goroutine pings, answers pings,
// and closes it when the peer goes silent or it is no longer used. Data is
// written by the writers of the peers using it, serialised by wmu.
type conn struct {
	t        *Transport
	nc       net.Conn
	outbound bool
	fr       frameReader

	// remote is the peer's advertised address from its hello. Written by
	// handshake before attach; read only once ready (under t.mu) or by
	// the conn's own goroutines, which attach starts.
	remote string
	// ready and users are guarded by t.mu. users counts the peers using
	// this connection for sending.
	ready bool
	users int

	wmu       sync.Mutex
	lastRecv  atomic.Int64 // unix nanos of the last frame read
	lastData  atomic.Int64 // unix nanos of the last data frame read
	inDeliver atomic.Bool
	pongs     chan uint64
	closeOnce sync.Once
	done      chan struct{}
}

// track registers a new connection so Stop can close it. It returns nil,
// closing nc, when the transport is stopping.
func (t *Transport) track(nc net.Conn, outbound bool) *conn {
	c := &conn{t: t, nc: nc, outbound: outbound, fr: frameReader{r: nc},
		pongs: make(chan uint64, 1), done: make(chan struct{})}
	now := time.Now().UnixNano()
	c.lastRecv.Store(now)
	c.lastData.Store(now)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		nc.Close()
		return nil
	}
	t.conns[c] = struct{}{}
	return c
}

// handshake exchanges hellos within the dial timeout.
func (c *conn) handshake() error {
	if err := c.nc.SetDeadline(time.Now().Add(c.t.cfg.dialTimeout)); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if _, err := c.nc.Write(appendHello(nil, c.t.self)); err != nil {
		return fmt.Errorf("handshake: send hello: %w", err)
	}
	typ, payload, err := c.fr.next()
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if typ != frameHello {
		return fmt.Errorf("handshake: %w", malformed("first frame is %s, want hello", typ))
	}
	if c.remote, err = decodeHello(payload); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	return nil
}

// attach makes a handshaken connection the current one for the peers at
// keys and at its remote address (unless they have a preferred one), and
// starts its goroutines. It reports false, closing c, when stopping.
func (t *Transport) attach(c *conn, keys ...string) bool {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		c.close(nil)
		return false
	}
	defer t.mu.Unlock()
	c.ready = true
	for _, key := range append(keys, c.remote) {
		p := t.peerLocked(key)
		if p.conn == c {
			continue
		}
		if p.conn == nil || t.prefer(c, p.conn) {
			if p.conn != nil {
				p.conn.users--
			}
			p.conn = c
			c.users++
		}
	}
	t.wg.Add(2)
	go c.readLoop()
	go c.keepalive()
	t.updateLinksLocked("link_up", c.remote)
	return true
}

// prefer reports whether c should replace old as a peer's connection. Both
// sides of a simultaneous dial must agree, so the rule uses only the two
// advertised addresses: keep the connection dialed by the side whose
// address sorts first; between two dialed by the same side, the newer.
func (t *Transport) prefer(c, old *conn) bool {
	if old.closed() {
		return true
	}
	nd, od := t.dialerOf(c), t.dialerOf(old)
	return nd == od || nd < od
}

func (t *Transport) dialerOf(c *conn) string {
	if c.outbound {
		return t.self
	}
	return c.remote
}

// detach forgets a closed connection; peers using it fall back to another
// live connection to the same remote, or to dialing on their next packet.
func (t *Transport) detach(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.conns[c]; !ok {
		return
	}
	delete(t.conns, c)
	if !c.ready {
		return
	}
	var alt *conn
	for o := range t.conns {
		if o.ready && o.remote == c.remote && !o.closed() {
			alt = o
			break
		}
	}
	for _, p := range t.peers {
		if p.conn == c {
			p.conn = alt
			if alt != nil {
				alt.users++
			}
		}
	}
	t.updateLinksLocked("link_down", c.remote)
}

// updateLinksLocked reports a change in the number of peers with a live
// connection. t.mu must be held, which also keeps these events in order.
func (t *Transport) updateLinksLocked(phase, remote string) {
	seen := make(map[string]bool)
	for c := range t.conns {
		if c.ready && !c.closed() {
			seen[c.remote] = true
		}
	}
	if len(seen) == t.links {
		return
	}
	t.links = len(seen)
	verb := map[string]string{"link_up": "up", "link_down": "down"}[phase]
	t.event(transport.Event{State: transport.StateReady, Phase: phase, Peers: t.links,
		Summary: fmt.Sprintf("link %s: %s (%d peers)", verb, remote, t.links)})
}

// linkCount reports the number of peers with a live connection.
func (t *Transport) linkCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.links
}

func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// close closes the connection once. A non-nil reason is logged: as an
// error when the peer sent a malformed frame, as a warning otherwise.
func (c *conn) close(reason error) {
	c.closeOnce.Do(func() {
		close(c.done)
		// Log before closing, so whoever sees the close also finds the
		// reason in the log.
		if reason != nil {
			kv := []any{"peer", c.remote, "remote_addr", c.nc.RemoteAddr().String(), "error", reason}
			if errors.Is(reason, errMalformed) {
				c.t.log.Error("closing connection: peer sent a malformed frame", kv...)
			} else {
				c.t.log.Warn("closing connection", kv...)
			}
		}
		c.nc.Close()
		c.t.detach(c)
	})
}

// write writes one or more complete frames. A peer that stops reading
// fails the write after three keepalive intervals.
func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.nc.SetWriteDeadline(time.Now().Add(3 * c.t.cfg.keepalive)); err != nil {
		return err
	}
	_, err := c.nc.Write(b)
	return err
}

func (c *conn) readLoop() {
	t := c.t
	defer t.wg.Done()
	var pkts []transport.Packet
	for {
		typ, payload, err := c.fr.next()
		if err != nil {
			if c.closed() || errors.Is(err, io.EOF) {
				c.close(nil)
			} else {
				c.close(fmt.Errorf("read: %w", err))
			}
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		switch typ {
		case frameData:
			c.lastData.Store(time.Now().UnixNano())
			if pkts, err = decodeData(pkts[:0], payload, c.remote); err != nil {
				c.close(err)
				return
			}
			if !c.deliver(pkts) {
				return
			}
			clear(pkts)
		case framePing:
			nonce, err := decodePing(payload)
			if err != nil {
				c.close(err)
				return
			}
			select {
			case c.pongs <- nonce:
			default: // a pong is already pending; one answer is enough
			}
		case framePong:
			if _, err := decodePing(payload); err != nil {
				c.close(err)
				return
			}
		case frameHello:
			c.close(malformed("hello after the handshake"))
			return
		}
	}
}

// deliver hands pkts to the host; it reports false once stopping.
func (c *conn) deliver(pkts []transport.Packet) bool {
	t := c.t
	t.received.Add(uint64(len(pkts)))
	for _, p := range pkts {
		t.tap.write(p.Data)
	}
	c.inDeliver.Store(true)
	err := t.host.Deliver(t.ctx, pkts)
	c.inDeliver.Store(false)
	c.lastRecv.Store(time.Now().UnixNano())
	if err != nil {
		if t.ctx.Err() != nil {
			return false
		}
		t.log.Debug("host refused packets", "peer", c.remote, "count", len(pkts), "error", err)
	}
	return true
}

func (c *conn) keepalive() {
	t := c.t
	defer t.wg.Done()
	ka := t.cfg.keepalive
	tick := time.NewTicker(ka)
	defer tick.Stop()
	var buf []byte
	var nonce uint64
	for {
		select {
		case <-c.done:
			return
		case n := <-c.pongs:
			buf = appendPing(buf[:0], framePong, n)
		case <-tick.C:
			now := time.Now()
			if silent := now.Sub(time.Unix(0, c.lastRecv.Load())); silent > 3*ka && !c.inDeliver.Load() {
				c.close(fmt.Errorf("no frame for %v, peer presumed dead", silent.Round(time.Millisecond)))
				return
			}
			if c.unused() && now.Sub(time.Unix(0, c.lastData.Load())) > 2*ka {
				// Superseded by the other connection of a simultaneous
				// dial, and the peer agrees: it has stopped sending here.
				t.log.Debug("closing unused connection", "peer", c.remote)
				c.close(nil)
				return
			}
			nonce++
			buf = appendPing(buf[:0], framePing, nonce)
		}
		if err := c.write(buf); err != nil {
			c.close(fmt.Errorf("keepalive: %w", err))
			return
		}
	}
}

func (c *conn) unused() bool {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	return c.users == 0
}
