package direct

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
)

// Backoff between failed dials to one peer.
const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 30 * time.Second
)

// peer is one destination address: a bounded queue drained by one writer
// goroutine onto the peer's current connection, dialing when there is none.
type peer struct {
	t   *Transport
	key string // the address packets are sent to
	q   chan transport.Packet
	// conn is the connection in use; guarded by t.mu.
	conn *conn
	// dropped counts drops since the last report.
	dropped atomic.Uint64

	// Owned by the writer goroutine.
	failures int
	nextDial time.Time
	pending  *transport.Packet // taken from q but did not fit the last frame
	buf      []byte
}

// peerLocked returns the peer for addr, creating it (and its writer) on
// first use. It returns nil once the transport is stopping. t.mu is held.
func (t *Transport) peerLocked(addr string) *peer {
	if t.stopped {
		return nil
	}
	if p := t.peers[addr]; p != nil {
		return p
	}
	p := &peer{t: t, key: addr, q: make(chan transport.Packet, t.cfg.maxQueue)}
	t.peers[addr] = p
	t.wg.Add(1)
	go p.run()
	return p
}

func (t *Transport) currentConn(p *peer) *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return p.conn
}

// run is the peer's writer: it batches queued packets into data frames.
func (p *peer) run() {
	t := p.t
	defer t.wg.Done()
	idleAfter := 4 * t.cfg.keepalive
	idle := time.NewTimer(idleAfter)
	defer idle.Stop()
	for {
		var first transport.Packet
		if p.pending != nil {
			first, p.pending = *p.pending, nil
		} else {
			idle.Reset(idleAfter)
			select {
			case first = <-p.q:
			case <-t.done:
				return
			case <-idle.C:
				if p.retire() {
					return
				}
				continue
			}
		}
		c := t.currentConn(p)
		if c == nil {
			if c = p.connect(); c == nil {
				continue
			}
		}
		batch := p.collect(first)
		p.buf = appendData(p.buf[:0], batch)
		if err := c.write(p.buf); err != nil {
			t.dropped.Add(uint64(len(batch)))
			c.close(fmt.Errorf("write %d packets: %w", len(batch), err))
		}
	}
}

// retire forgets an idle peer without a connection, so addresses sent to
// once do not keep a goroutine and a queue forever. Send queues under t.mu,
// so nothing can slip into the queue after the check.
func (p *peer) retire() bool {
	t := p.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.conn != nil || len(p.q) > 0 || t.peers[p.key] != p {
		return false
	}
	delete(t.peers, p.key)
	if n := p.dropped.Swap(0); n > 0 {
		t.log.Warn("queue full while dialing, packets dropped", "peer", p.key, "dropped", n)
	}
	return true
}

// collect adds queued packets to first while they fit one data frame.
func (p *peer) collect(first transport.Packet) []transport.Packet {
	batch := []transport.Packet{first}
	size := dataHeader + pktHeader + len(first.Data)
	for len(batch) < 0xffff {
		select {
		case next := <-p.q:
			if size+pktHeader+len(next.Data) > maxDataPayload {
				p.pending = &next
				return batch
			}
			size += pktHeader + len(next.Data)
			batch = append(batch, next)
		default:
			return batch
		}
	}
	return batch
}

// connect dials the peer after any backoff. On failure it drops what is
// queued (holding it would only delay the inevitable and the host resends
// end to end), reports it, and returns nil.
func (p *peer) connect() *conn {
	t := p.t
	if wait := time.Until(p.nextDial); wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-t.done:
			timer.Stop()
			return nil
		}
	}
	// An inbound connection may have arrived while we waited.
	if c := t.currentConn(p); c != nil {
		return c
	}
	c, err := t.dial(p.key)
	if err != nil {
		p.failures++
		back := min(backoffMin<<min(p.failures-1, 16), backoffMax)
		back += rand.N(back / 4)
		p.nextDial = time.Now().Add(back)
		// The packet in hand and the queue are dropped now; queue-full
		// drops were counted by Send and are only reported here.
		lost := 1 + p.drain()
		t.dropped.Add(lost)
		n := lost + p.dropped.Swap(0)
		select {
		case <-t.done:
			return nil
		default:
		}
		t.log.Warn("dial failed", "peer", p.key, "error", err, "dropped", n, "retry_in", back)
		t.event(transport.Event{State: transport.StateReady, Phase: "dial_failed", Peers: t.linkCount(), Addr: p.key,
			Summary: fmt.Sprintf("dial %s failed, dropped %d packets", p.key, n), Reason: err.Error()})
		return nil
	}
	p.failures = 0
	if n := p.dropped.Swap(0); n > 0 {
		t.log.Warn("queue full while dialing, packets dropped", "peer", p.key, "dropped", n)
		t.event(transport.Event{State: transport.StateReady, Phase: "dropped", Peers: t.linkCount(),
			Summary: fmt.Sprintf("dropped %d packets to %s: queue full while dialing", n, p.key)})
	}
	return c
}

// drain empties the queue and returns how many packets it held.
func (p *peer) drain() uint64 {
	var n uint64
	if p.pending != nil {
		p.pending = nil
		n++
	}
	for {
		select {
		case <-p.q:
			n++
		default:
			return n
		}
	}
}

// dial connects to addr, exchanges hellos, and attaches the connection to
// the peers it serves.
func (t *Transport) dial(addr string) (*conn, error) {
	d := net.Dialer{Timeout: t.cfg.dialTimeout}
	nc, err := d.DialContext(t.ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("direct: dial %s: %w", addr, err)
	}
	c := t.track(nc, true)
	if c == nil {
		return nil, ErrStopped
	}
	if err := c.handshake(); err != nil {
		c.close(nil)
		return nil, fmt.Errorf("direct: dial %s: %w", addr, err)
	}
	if !t.attach(c, addr) {
		return nil, ErrStopped
	}
	return c, nil
}
