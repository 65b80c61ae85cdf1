package relay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/store"
)

// Held record, the value of a mixing-queue entry:
//
//	version(1) = 1 || next hop id (32) || packet (onion.PacketSize)
//
// The due time and the packet's replay tag (its id) are the entry's key.
const (
	heldVersion = 1
	heldSize    = 1 + 32 + onion.PacketSize
)

var errHeld = errors.New("relay: bad held record")

func encodeHeld(next [32]byte, pkt []byte) []byte {
	b := make([]byte, 0, heldSize)
	b = append(b, heldVersion)
	b = append(b, next[:]...)
	return append(b, pkt...)
}

func decodeHeld(b []byte) (next [32]byte, pkt []byte, err error) {
	if len(b) != heldSize {
		return next, nil, fmt.Errorf("%w: %d bytes, want %d", errHeld, len(b), heldSize)
	}
	if b[0] != heldVersion {
		return next, nil, fmt.Errorf("%w: version %d", errHeld, b[0])
	}
	copy(next[:], b[1:33])
	return next, append([]byte{}, b[33:]...), nil
}

// hold writes a relay packet to the mixing queue and wakes Run.
func (p *Processor) hold(due time.Time, res *onion.Result) error {
	h := store.Held{Due: due, ID: res.ReplayTag, Value: encodeHeld(res.Command.Next, res.Packet)}
	if err := p.cfg.Queue.Hold(h); err != nil {
		p.stats.reasons[DropStore].Add(1)
		return fmt.Errorf("relay: %w: %w", ErrStore, err)
	}
	p.stats.held.Add(1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// flushBatch bounds how many held packets one read of the queue returns.
const flushBatch = 64

// FlushDue forwards every held packet due at the clock's now and returns how
// many it handed to the Forwarder without error. A packet whose Forward
// fails is dropped (counted) and released; one that does not decode is
// released and counted as malformed. If ctx ends, the packet being
// forwarded stays held. Run calls it; tests may call it directly.
func (p *Processor) FlushDue(ctx context.Context) (int, error) {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	sent := 0
	for {
		due, err := p.cfg.Queue.Due(p.clock.Now(), flushBatch)
		if err != nil {
			return sent, fmt.Errorf("relay: %w: %w", ErrStore, err)
		}
		if len(due) == 0 {
			return sent, nil
		}
		for _, h := range due {
			if err := ctx.Err(); err != nil {
				return sent, err
			}
			ok, err := p.forwardHeld(ctx, h)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
}

func (p *Processor) forwardHeld(ctx context.Context, h store.Held) (bool, error) {
	next, pkt, err := decodeHeld(h.Value)
	ok := false
	switch {
	case err != nil:
		p.log.Warn("dropping undecodable held packet", "due", h.Due, "error", err)
		p.stats.reasons[DropMalformed].Add(1)
	default:
		if ferr := p.cfg.Forwarder.Forward(ctx, next, pkt); ferr != nil {
			if ctx.Err() != nil {
				return false, ctx.Err() // stays held for the next run
			}
			p.log.Debug("forward failed, dropping", "error", ferr)
			p.stats.reasons[DropForward].Add(1)
		} else {
			p.stats.forwarded.Add(1)
			ok = true
		}
	}
	if err := p.cfg.Queue.Release(h); err != nil {
		return ok, fmt.Errorf("relay: %w: %w", ErrStore, err)
	}
	p.stats.held.Add(-1)
	return ok, nil
}

// retryStoreAfter is how long Run waits after a store error.
const retryStoreAfter = time.Second

// Run forwards held packets as they fall due (including those held before
// a restart) until ctx ends; then it returns ctx.Err(). Call it once per
// Processor.
func (p *Processor) Run(ctx context.Context) error {
	for {
		var wait <-chan time.Time
		if _, err := p.FlushDue(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Error("mixing queue", "error", err)
			wait = p.clock.After(retryStoreAfter)
		} else {
			due, ok, err := p.cfg.Queue.Earliest()
			switch {
			case err != nil:
				p.log.Error("mixing queue", "error", err)
				wait = p.clock.After(retryStoreAfter)
			case ok:
				wait = p.clock.After(max(due.Sub(p.clock.Now()), 0))
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.wake:
		case <-wait:
		}
	}
}
