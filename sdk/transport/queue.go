package transport

import (
	"context"
	"fmt"
)

// CheckBatch returns an error naming the first packet of pkts that a
// transport must refuse: one larger than MaxPacketSize, or one whose
// address checkAddr rejects (checkAddr may be nil). Send checks the whole
// batch before queueing any of it, so a refused batch sends nothing.
func CheckBatch(pkts []Packet, checkAddr func(addr string) error) error {
	for i, p := range pkts {
		if len(p.Data) > MaxPacketSize {
			return fmt.Errorf("packet %d: %d bytes exceeds %d", i, len(p.Data), MaxPacketSize)
		}
		if checkAddr != nil {
			if err := checkAddr(p.Addr); err != nil {
				return fmt.Errorf("packet %d: %w", i, err)
			}
		}
	}
	return nil
}

// Enqueue puts data on a peer's outbound queue q with the contract's
// semantics for stream transports: while the peer's link is up (up), a
// full queue makes the caller wait — backpressure — until there is room,
// ctx ends (its error is returned) or stopped is closed (stopErr is
// returned); while the link is being made, a full queue drops the packet
// and Enqueue reports queued false, so a peer that cannot be reached never
// holds up packets for the others.
func Enqueue(ctx context.Context, stopped <-chan struct{}, stopErr error, q chan<- []byte, up bool, data []byte) (queued bool, err error) {
	if !up {
		select {
		case q <- data:
			return true, nil
		default:
			return false, nil
		}
	}
	select {
	case q <- data:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-stopped:
		return false, stopErr
	}
}
