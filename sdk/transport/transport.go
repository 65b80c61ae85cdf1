package transport

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
)

// MaxPacketSize bounds a single packet. Transports reject larger packets.
const MaxPacketSize = 64 << 10

// Packet is one opaque datagram. Addr is the peer's transport address: the
// destination when sending, the source (as far as the transport knows it)
// when received.
type Packet struct {
	Addr string
	Data []byte
}

// State is a transport's coarse state.
type State int

// Transport states.
const (
	StateStopped State = iota
	StateStarting
	StateReady
	StateBlocked
	StateFailed
)

var stateNames = [...]string{"stopped", "starting", "ready", "blocked", "failed"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Event is a status report: bootstrap progress, readiness, or a blocked
// signal with its reason (the input to ManCon escalation).
type Event struct {
	Time     time.Time
	State    State
	Progress int    // bootstrap progress, 0..100
	Phase    string // short machine-readable phase, e.g. "handshake_dir"
	Summary  string // one line for a person
	Reason   string // why, when State is StateBlocked or StateFailed
	Peers    int    // peers or links currently up, when the transport knows
	// Addr is the peer address the event is about, when it is about one:
	// Phase "dial_failed" with Addr tells the host that peer is unreachable
	// now (its onion layer then routes around it).
	Addr string
}

// Host is what the host offers a running transport.
type Host interface {
	// Deliver hands received packets to the host. The host copies what it
	// keeps; the transport may reuse pkts after Deliver returns. Deliver may
	// block (backpressure) until ctx is done.
	Deliver(ctx context.Context, pkts []Packet) error
	// Event reports a status change. It never blocks for long.
	Event(ev Event)
}

// Transport is the role interface of a transport plugin.
type Transport interface {
	base.Plugin
	// Start brings the transport up and returns the addresses peers use to
	// reach this node over it.
	Start(ctx context.Context, h Host) ([]string, error)
	// Send accepts a batch of packets for sending. It is safe for
	// concurrent use. An error means the batch as a whole was refused
	// (stopped transport, oversize packet, malformed address).
	Send(ctx context.Context, pkts []Packet) error
	// Stop shuts the transport down and releases its resources. It is
	// idempotent.
	Stop(ctx context.Context) error
}

// Dialer is an optional ability: open a byte stream to addr (host:port,
// including .onion or .i2p names where the network supports them).
type Dialer interface {
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// Announcer is an optional ability of transports that discover peers
// themselves (on a local link, say), advertising this node to them.
type Announcer interface {
	// Announce sets the host-signed peer record the transport advertises
	// to nearby peers; the host calls it again whenever the record
	// changes. The transport treats the record as opaque bytes.
	Announce(ctx context.Context, record []byte) error
}

// Discoverer is an optional ability of a Host: transports that discover
// peers report them here.
type Discoverer interface {
	// Discovered reports a record heard from a nearby peer at a transport
	// address. The host verifies the record; the transport only filters
	// the obvious (size, rate, replays). It never blocks for long.
	Discovered(ctx context.Context, addr string, record []byte) error
}
