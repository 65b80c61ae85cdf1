package i2p

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
)

// peer is the outbound side towards one destination: a bounded queue and
// a goroutine that opens a stream through the SAM session and writes
// queued packets, reopening it with backoff when it breaks.
type peer struct {
	addr      string
	q         chan []byte
	connected atomic.Bool
	conn      atomic.Pointer[net.Conn] // the current stream, nil while opening
	kick      chan struct{}            // reset: leave the current stream
}

// errReset ends a writer whose stream reset replaced.
var errReset = errors.New("stream reset: the peer opened a new stream to us")

// reset makes the peer's writer leave its current stream (before taking
// another packet from the queue) and open a new one.
func (pr *peer) reset() {
	select {
	case pr.kick <- struct{}{}:
	default:
	}
	if c := pr.conn.Load(); c != nil {
		(*c).Close()
	}
}

// Send implements transport.Transport. The batch is validated as a whole
// first. Per peer, packets wait in a queue of max_queue: while the peer's
// stream is up a full queue makes Send wait (backpressure, bounded by
// ctx); while it is being opened a full queue drops (counted).
func (t *Transport) Send(ctx context.Context, pkts []transport.Packet) error {
	if err := transport.CheckBatch(pkts, checkAddr); err != nil {
		return fmt.Errorf("i2p: send: %w", err)
	}
	t.mu.Lock()
	started, stopped := t.started, t.stopped
	var done <-chan struct{}
	if t.ctx != nil {
		done = t.ctx.Done()
	}
	t.mu.Unlock()
	switch {
	case stopped:
		return ErrStopped
	case !started:
		return ErrNotStarted
	}
	for _, p := range pkts {
		pr := t.peerFor(p.Addr)
		if pr == nil {
			return ErrStopped
		}
		queued, err := transport.Enqueue(ctx, done, ErrStopped, pr.q, pr.connected.Load(), bytes.Clone(p.Data))
		switch {
		case errors.Is(err, ErrStopped):
			return err
		case err != nil:
			return fmt.Errorf("i2p: send to %s: %w", p.Addr, err)
		case !queued:
			t.dropped.Add(1)
			continue
		}
		t.sent.Add(1)
	}
	return nil
}

// peerFor returns the peer for addr, starting it if new; nil once stopped.
func (t *Transport) peerFor(addr string) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return nil
	}
	if pr, ok := t.peers[addr]; ok {
		return pr
	}
	pr := &peer{addr: addr, q: make(chan []byte, t.cfg.maxQueue), kick: make(chan struct{}, 1)}
	t.peers[addr] = pr
	t.wg.Add(1)
	go t.runPeer(pr)
	return pr
}

func (t *Transport) runPeer(pr *peer) {
	defer t.wg.Done()
	backoff := 100 * time.Millisecond
	for t.ctx.Err() == nil {
		nc, err := t.Dial(t.ctx, pr.addr)
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			wait := backoff
			if errors.Is(err, ErrNoSession) {
				wait = 250 * time.Millisecond // our own session is still being made
			} else {
				backoff = min(backoff*2, 4*time.Second)
			}
			t.log.Debug("stream connect failed", "peer", pr.addr, "error", err, "retry_in", wait)
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		if !t.track(nc) {
			return
		}
		backoff = 100 * time.Millisecond
		select {
		case <-pr.kick: // a reset meant for an earlier stream
		default:
		}
		pr.conn.Store(&nc)
		err = t.writeLoop(pr, nc)
		pr.conn.Store(nil)
		pr.connected.Store(false)
		t.untrack(nc)
		if t.ctx.Err() == nil {
			t.log.Debug("stream to peer closed", "peer", pr.addr, "error", err)
		}
	}
}

// writeLoop writes the version byte and then queued packets until the
// stream fails or the transport stops. A packet whose write fails is
// lost; the host's end-to-end retransmission covers it.
func (t *Transport) writeLoop(pr *peer, nc net.Conn) error {
	w := bufio.NewWriterSize(nc, 64<<10)
	deadline := func() { nc.SetWriteDeadline(time.Now().Add(t.cfg.dialTimeout)) }
	deadline()
	if err := w.WriteByte(streamVersion); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	pr.connected.Store(true)
	var buf []byte
	for {
		select {
		case <-t.ctx.Done():
			return t.ctx.Err()
		case <-pr.kick:
			return errReset
		case d := <-pr.q:
			deadline()
			buf = appendFrame(buf[:0], d)
			if _, err := w.Write(buf); err != nil {
				return err
			}
			if len(pr.q) == 0 {
				if err := w.Flush(); err != nil {
					return err
				}
			}
		}
	}
}

func (t *Transport) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		c.Close()
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *Transport) untrack(c net.Conn) {
	c.Close()
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// readLoop reads the version byte and then delivers each frame, labelled
// with the sender's address as the router reported it.
func (t *Transport) readLoop(nc net.Conn, from string) error {
	r := bufio.NewReaderSize(nc, 64<<10)
	nc.SetReadDeadline(time.Now().Add(t.cfg.dialTimeout))
	if err := readVersion(r); err != nil {
		return fmt.Errorf("stream from %s: %w", from, err)
	}
	nc.SetReadDeadline(time.Time{})
	var buf []byte
	for {
		var data []byte
		var err error
		data, buf, err = readFrame(r, buf)
		if err != nil {
			if errors.Is(err, errMalformed) {
				return fmt.Errorf("stream from %s: %w", from, err)
			}
			return err
		}
		if err := t.host.Deliver(t.ctx, []transport.Packet{{Addr: from, Data: data}}); err != nil {
			return err
		}
		t.received.Add(1)
	}
}
