package tor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/sdk/transport"
)

// peer is the outbound side towards one onion address: a bounded queue
// and a goroutine that dials through tor, sends the hello, and writes
// queued packets, redialling with backoff when the stream breaks.
type peer struct {
	addr      string
	q         chan []byte
	connected atomic.Bool
}

// Send implements transport.Transport. The batch is validated as a whole
// first. Per peer, packets wait in a queue of max_queue: while the peer's
// stream is up a full queue makes Send wait (backpressure, bounded by
// ctx); while it is being dialled a full queue drops (counted).
func (t *Transport) Send(ctx context.Context, pkts []transport.Packet) error {
	if err := transport.CheckBatch(pkts, checkAddr); err != nil {
		return fmt.Errorf("tor: send: %w", err)
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
			return fmt.Errorf("tor: send to %s: %w", p.Addr, err)
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
	pr := &peer{addr: addr, q: make(chan []byte, t.cfg.maxQueue)}
	t.peers[addr] = pr
	t.wg.Add(1)
	go t.runPeer(pr)
	return pr
}

func (t *Transport) runPeer(pr *peer) {
	defer t.wg.Done()
	backoff := 100 * time.Millisecond
	failures := 0
	for t.ctx.Err() == nil {
		nc, err := t.Dial(t.ctx, pr.addr)
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			failures++
			if failures%forgetAfter == 0 {
				t.forgetOnions(pr.addr, failures)
			}
			t.log.Debug("dial failed", "peer", pr.addr, "error", err, "retry_in", backoff)
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		if !t.track(nc) {
			return
		}
		backoff, failures = 100*time.Millisecond, 0
		err = t.writeLoop(pr, nc)
		pr.connected.Store(false)
		t.untrack(nc)
		if t.ctx.Err() == nil {
			t.log.Debug("stream to peer closed", "peer", pr.addr, "error", err)
		}
	}
}

// writeLoop sends the hello and then queued packets until the stream
// fails or the transport stops. A packet whose write fails is lost; the
// host's end-to-end retransmission covers it.
func (t *Transport) writeLoop(pr *peer, nc net.Conn) error {
	w := bufio.NewWriterSize(nc, 64<<10)
	t.mu.Lock()
	self := t.self
	t.mu.Unlock()
	deadline := func() { nc.SetWriteDeadline(time.Now().Add(t.cfg.dialTimeout)) }
	deadline()
	if _, err := w.Write(appendHello(nil, self)); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	pr.connected.Store(true)
	var hdr []byte
	for {
		select {
		case <-t.ctx.Done():
			return t.ctx.Err()
		case d := <-pr.q:
			deadline()
			hdr = append(binary.BigEndian.AppendUint32(hdr[:0], uint32(1+len(d))), frameData)
			if _, err := w.Write(hdr); err != nil {
				return err
			}
			if _, err := w.Write(d); err != nil {
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

// acceptLoop takes the streams tor forwards from the onion service.
func (t *Transport) acceptLoop(ln net.Listener) {
	defer t.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				t.log.Error("accept failed, no longer accepting streams", "error", err)
				t.event(transport.Event{State: transport.StateFailed, Phase: "accept", Reason: err.Error()})
			}
			return
		}
		if !t.track(nc) {
			return
		}
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrack(nc)
			if err := t.readLoop(nc); t.ctx.Err() == nil {
				t.log.Debug("inbound stream ended", "error", err)
			}
		}()
	}
}

// readLoop reads the hello and then delivers each data frame, labelled
// with the address the hello announced.
func (t *Transport) readLoop(nc net.Conn) error {
	r := bufio.NewReaderSize(nc, 64<<10)
	nc.SetReadDeadline(time.Now().Add(t.cfg.dialTimeout))
	typ, payload, buf, err := readFrame(r, nil)
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if typ != frameHello {
		return malformed("first frame is type %d, want hello", typ)
	}
	from, err := decodeHello(payload)
	if err != nil {
		return err
	}
	nc.SetReadDeadline(time.Time{})
	for {
		typ, payload, buf, err = readFrame(r, buf)
		if err != nil {
			return err
		}
		if typ != frameData {
			return malformed("frame type %d after hello", typ)
		}
		if err := t.host.Deliver(t.ctx, []transport.Packet{{Addr: from, Data: payload}}); err != nil {
			return err
		}
		t.received.Add(1)
	}
}

// lineLogger turns tor's stdout into log lines: [warn] and [err] lines
// at warn level, the rest at debug.
type lineLogger struct {
	log hclog.Logger
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
		if line == "" {
			continue
		}
		if strings.Contains(line, "[warn]") || strings.Contains(line, "[err]") {
			l.log.Warn(line)
		} else {
			l.log.Debug(line)
		}
	}
	if len(l.buf) > 64<<10 {
		l.buf = l.buf[:0]
	}
	return len(p), nil
}

// forgetAfter is how many dials in a row to one onion may fail before the
// transport asks tor to forget cached onion-service descriptors.
const forgetAfter = 3

// forgetInterval spaces those requests (tor itself rate-limits NEWNYM).
const forgetInterval = 30 * time.Second

// forgetOnions asks tor (SIGNAL NEWNYM) to drop its cached onion-service
// descriptors and introduction-point failures, and to use fresh circuits.
// A peer whose tor restarted publishes new introduction points; without
// this, our tor keeps trying the dead ones of the descriptor it cached.
func (t *Transport) forgetOnions(addr string, failures int) {
	t.mu.Lock()
	in := t.in
	due := time.Since(t.forgotAt) >= forgetInterval
	if due {
		t.forgotAt = time.Now()
	}
	t.mu.Unlock()
	if !due || in == nil || in.tor == nil || in.tor.Control == nil {
		return
	}
	if err := in.tor.Control.Signal("NEWNYM"); err != nil {
		t.log.Debug("NEWNYM refused", "error", err)
		return
	}
	t.log.Info("dials to a peer keep failing; tor asked to forget cached onion descriptors (NEWNYM)", "peer", addr, "failures", failures)
}
