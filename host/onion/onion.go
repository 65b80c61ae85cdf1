package onion

import (
	"crypto/ecdh"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Version is the packet format version, the first byte of every packet.
const Version = 1

// Packet geometry (SPEC.md section 2). Every packet is PacketSize bytes on
// every hop.
const (
	// MaxHops is the longest path a header can carry.
	MaxHops = 5
	// CommandSize is the size of one encoded routing command.
	CommandSize = 48
	// MACSize is the size of a header MAC.
	MACSize = 16
	// SlotSize is the routing information one hop consumes: its command and
	// the MAC of the next hop's header.
	SlotSize = CommandSize + MACSize
	// RoutingSize is the size of the encrypted routing information.
	RoutingSize = MaxHops * SlotSize
	// GroupElementSize is the size of an X25519 u-coordinate.
	GroupElementSize = 32
	// HeaderSize is version, group element, routing information and MAC.
	HeaderSize = 1 + GroupElementSize + RoutingSize + MACSize
	// PacketSize is the fixed size of every packet.
	PacketSize = 2048
	// BodySize is what is left of a packet after the header.
	BodySize = PacketSize - HeaderSize
	// authSize is the all-zero prefix of a plaintext body.
	authSize = 16
	// PayloadCapacity is the largest payload a packet or a reply carries:
	// the body less its zero prefix and 2-byte length.
	PayloadCapacity = BodySize - authSize - 2
	// ReplayTagSize is the size of a replay tag.
	ReplayTagSize = 32
	// SURBIDSize is the size of a reply block id.
	SURBIDSize = 16
	// MaxDelay is the longest delay a relay command may ask for.
	MaxDelay = 100 * 24 * time.Hour
)

// Header field offsets.
const (
	offAlpha = 1
	offBeta  = offAlpha + GroupElementSize
	offGamma = offBeta + RoutingSize
	offBody  = offGamma + MACSize
)

// Errors. Every failure wraps one of these; test with errors.Is.
var (
	ErrSize          = errors.New("onion: packet has the wrong size")
	ErrVersion       = errors.New("onion: unsupported packet version")
	ErrMAC           = errors.New("onion: header mac does not verify")
	ErrKey           = errors.New("onion: key agreement failed")
	ErrCommand       = errors.New("onion: malformed routing command")
	ErrPayloadTagged = errors.New("onion: payload does not authenticate")
	ErrPayloadSize   = errors.New("onion: payload too large")
	ErrPath          = errors.New("onion: invalid path")
	ErrSURB          = errors.New("onion: malformed reply block")
)

// Kind says what a hop does with a packet.
type Kind uint8

// Command kinds, as encoded in the first byte of a command.
const (
	// KindRelay: hold the packet for Delay, then send the next packet to Next.
	KindRelay Kind = 1
	// KindDeliver: this node is the destination; the payload is for it.
	KindDeliver Kind = 2
	// KindDeliverSURB: this node is the destination of a reply; the body is
	// opened with the SURBKeys of SURBID.
	KindDeliverSURB Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindRelay:
		return "relay"
	case KindDeliver:
		return "deliver"
	case KindDeliverSURB:
		return "deliver-surb"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Command is one hop's routing instruction.
type Command struct {
	Kind Kind
	// Next is the next hop's node id (its Ed25519 public key); relay only.
	Next [32]byte
	// Delay is how long to hold the packet before forwarding; relay only,
	// millisecond precision.
	Delay time.Duration
	// SURBID names the reply block; deliver-surb only.
	SURBID [SURBIDSize]byte
}

// Hop is one node on a path.
type Hop struct {
	// ID is the node id: its Ed25519 public key.
	ID [32]byte
	// Key is the node's current X25519 mix key.
	Key *ecdh.PublicKey
	// Delay is how long this hop holds the packet before passing it on. It
	// is ignored on the last hop of a path.
	Delay time.Duration
}

func (c *Command) encode(dst []byte) {
	clear(dst[:CommandSize])
	dst[0] = byte(c.Kind)
	switch c.Kind {
	case KindRelay:
		copy(dst[1:33], c.Next[:])
		binary.BigEndian.PutUint64(dst[33:41], uint64(c.Delay/time.Millisecond))
	case KindDeliverSURB:
		copy(dst[1:1+SURBIDSize], c.SURBID[:])
	}
}

func decodeCommand(src []byte) (Command, error) {
	var c Command
	c.Kind = Kind(src[0])
	var used int
	switch c.Kind {
	case KindRelay:
		copy(c.Next[:], src[1:33])
		ms := binary.BigEndian.Uint64(src[33:41])
		if ms > uint64(MaxDelay/time.Millisecond) {
			return c, fmt.Errorf("%w: delay %d ms exceeds the limit", ErrCommand, ms)
		}
		c.Delay = time.Duration(ms) * time.Millisecond
		used = 41
	case KindDeliver:
		used = 1
	case KindDeliverSURB:
		copy(c.SURBID[:], src[1:1+SURBIDSize])
		used = 1 + SURBIDSize
	default:
		return c, fmt.Errorf("%w: unknown kind %d", ErrCommand, src[0])
	}
	for _, b := range src[used:CommandSize] {
		if b != 0 {
			return c, fmt.Errorf("%w: reserved bytes are not zero", ErrCommand)
		}
	}
	return c, nil
}

// Result is what one hop learns from a packet.
type Result struct {
	// Command is this hop's instruction.
	Command Command
	// ReplayTag is derived from the shared secret: the same for every copy
	// of a packet (however its group element is re-encoded) and unrelated
	// across packets. The caller drops a packet whose tag it has seen under
	// the same mix key.
	ReplayTag [ReplayTagSize]byte
	// Packet is the packet to send to Command.Next (relay only), PacketSize
	// bytes.
	Packet []byte
	// Payload is the verified payload (deliver), or the still-encrypted body
	// to pass to SURBKeys.Open (deliver-surb).
	Payload []byte
}
