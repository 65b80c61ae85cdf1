package i2p

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"time"

	"github.com/eyedeekay/sam3"

	"github.com/onemfive/onemfive/sdk/transport"
)

// sessionLoop keeps one SAM STREAM session alive: it creates it (with
// backoff on failure), accepts streams on it until it is lost (i2pd gone,
// the bridge dropped it), then creates a new one with the same keys.
func (t *Transport) sessionLoop() {
	defer t.wg.Done()
	backoff := time.Second
	for t.ctx.Err() == nil {
		t.mu.Lock()
		samAddr, keys := t.samAddr, t.keys
		t.mu.Unlock()
		var idb [6]byte
		rand.Read(idb[:])
		id := "onemfive-" + hex.EncodeToString(idb[:])
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionCreating(now) })
		ctx, cancel := context.WithTimeout(t.ctx, t.cfg.sessionTimeout)
		t0 := time.Now()
		ss, err := createSession(ctx, samAddr, id, keys, t.cfg.sessionOptions())
		cancel()
		if err != nil {
			if t.ctx.Err() != nil {
				return
			}
			t.log.Warn("SAM session create failed", "error", err, "retry_in", backoff)
			t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionFailed(now, err) })
			select {
			case <-t.ctx.Done():
				return
			case <-t.kick:
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		backoff = time.Second
		took := time.Since(t0)
		t.mu.Lock()
		t.sess, t.sessID, t.lastCreate = ss, id, took
		t.mu.Unlock()
		t.log.Info("SAM session created", "id", id, "took", took.Round(time.Millisecond))
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionReady(now) })
		why := t.acceptLoop(samAddr, id)
		if t.ctx.Err() != nil {
			return // Stop closes the session, after every stream
		}
		t.mu.Lock()
		if t.sess == ss {
			t.sess, t.sessID = nil, ""
		}
		t.mu.Unlock()
		t.closeSession(ss)
		t.log.Warn("SAM session lost; creating a new one", "reason", why)
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sessionLost(now, why.Error()) })
	}
}

// acceptLoop takes incoming streams until accepting fails, which means the
// session is gone; it returns why.
func (t *Transport) acceptLoop(samAddr, id string) error {
	for {
		c, from, err := streamAccept(t.ctx, samAddr, id, t.cfg.samTimeout)
		if err != nil {
			return err
		}
		if !t.track(c) {
			return ErrStopped
		}
		t.replaced(from, c)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer t.untrack(c)
			defer func() {
				t.mu.Lock()
				if t.inbound[from] == c {
					delete(t.inbound, from)
				}
				t.mu.Unlock()
			}()
			if err := t.readLoop(c, from); t.ctx.Err() == nil {
				t.log.Debug("inbound stream ended", "from", from, "error", err)
			}
		}()
	}
}

// replaced notes c as the stream from peer from. A new stream while an
// older one from the same peer is still open means the peer lost its end
// (it restarted, or its stream broke): the old one is closed, and so is
// this node's stream to that peer, which most likely runs into the same
// dead tunnels; its writer opens a new one, which uses the lease set the
// peer has just sent with its new stream.
func (t *Transport) replaced(from string, c net.Conn) {
	t.mu.Lock()
	old := t.inbound[from]
	t.inbound[from] = c
	pr := t.peers[from]
	t.mu.Unlock()
	if old == nil {
		return
	}
	old.Close()
	if pr != nil {
		t.log.Debug("peer opened a new stream; reopening ours to it", "peer", from)
		pr.reset()
	}
}

// closeConns closes every stream socket.
func (t *Transport) closeConns() {
	t.mu.Lock()
	conns := make([]net.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// sessionCloseGrace is how long closeSession lets i2pd finish closing
// the session's streams before closing the session.
const sessionCloseGrace = 300 * time.Millisecond

// closeSession closes ss after its stream sockets. i2pd 2.56 crashes
// (use after free in its SAM thread) when a stream socket outlives its
// session and is then written to or closed, so every stream socket is
// closed first (the callers have stopped opening new ones) and i2pd gets
// a moment to process those closes before the session goes.
func (t *Transport) closeSession(ss *sam3.StreamSession) {
	t.closeConns()
	time.Sleep(sessionCloseGrace)
	ss.Close()
}
