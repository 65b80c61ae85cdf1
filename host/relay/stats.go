package relay

import "sync/atomic"

// Reason is why a packet was dropped.
type Reason int

// Drop reasons.
const (
	DropNone Reason = iota
	// DropReplayed: the replay tag was seen before under the same epoch.
	DropReplayed
	// DropMAC: no held key verifies the header (bit-flipped header, or a
	// key this node never had or has deleted).
	DropMAC
	// DropWrongEpoch: a key this node holds verifies the header, but that
	// key is outside its acceptance window now.
	DropWrongEpoch
	// DropSize: the packet is not onion.PacketSize bytes (truncated or
	// oversize).
	DropSize
	// DropMalformed: wrong version byte, bad group element, or a routing
	// command that does not decode.
	DropMalformed
	// DropTagged: the payload at the final hop does not authenticate (the
	// body was altered on the way).
	DropTagged
	// DropNoKey: the ring holds no key accepted now.
	DropNoKey
	// DropStore: the replay cache or the mixing queue failed; the packet
	// is dropped rather than risk a replay.
	DropStore
	// DropDelay: the packet asks for a delay above Config.MaxDelay.
	DropDelay
	// DropForward: the Forwarder returned an error.
	DropForward
	// DropDeliver: the Deliverer returned an error.
	DropDeliver

	numReasons
)

var reasonNames = [numReasons]string{
	"none", "replayed", "bad-mac", "wrong-epoch", "size", "malformed",
	"tagged", "no-key", "store", "delay", "forward", "deliver",
}

func (r Reason) String() string {
	if r >= 0 && r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Stats is a snapshot of a Processor's counters.
type Stats struct {
	// Received counts calls to Process.
	Received uint64
	// Forwarded counts packets handed to the Forwarder without error.
	Forwarded uint64
	// Delivered counts payloads handed to the Deliverer without error.
	Delivered uint64
	// Held is the number of packets in the mixing queue now.
	Held int64
	// Dropped counts drops by reason; Dropped[DropNone] is always 0.
	Dropped map[Reason]uint64
}

// DroppedTotal sums Dropped.
func (s Stats) DroppedTotal() uint64 {
	var n uint64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

type counters struct {
	received, forwarded, delivered atomic.Uint64
	held                           atomic.Int64
	reasons                        [numReasons]atomic.Uint64
}

// Stats returns a snapshot of the counters. Counters are read one by one,
// so a snapshot taken while packets flow may be off by the packets in flight.
func (p *Processor) Stats() Stats {
	s := Stats{
		Received:  p.stats.received.Load(),
		Forwarded: p.stats.forwarded.Load(),
		Delivered: p.stats.delivered.Load(),
		Held:      p.stats.held.Load(),
		Dropped:   make(map[Reason]uint64),
	}
	for r := DropReplayed; r < numReasons; r++ {
		if v := p.stats.reasons[r].Load(); v > 0 {
			s.Dropped[r] = v
		}
	}
	return s
}
