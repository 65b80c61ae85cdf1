package onion

import (
	"fmt"
	"io"
)

// SURBSize is the encoded size of a SURB.
const SURBSize = 32 + HeaderSize + 32

// SURB is a single-use reply block: what a receiver needs to answer a
// sender without learning where the sender is. The receiver fills it with
// PacketFromSURB and sends the packet to FirstHop.
type SURB struct {
	// FirstHop is the node id the reply packet goes to first.
	FirstHop [32]byte
	// Header is a ready header whose last command is deliver-surb.
	Header [HeaderSize]byte
	// Key is the body key the replier encrypts the reply with.
	Key [32]byte
}

// SURBKeys stays with the SURB's creator and opens the reply.
type SURBKeys struct {
	// ID is the SURB id the final hop's deliver-surb command carries.
	ID   [SURBIDSize]byte
	hops []bodyKey
	body bodyKey
}

// NewSURB builds a reply block whose path ends at the creator's own node
// (path's last hop) with a deliver-surb command. It reads from rand the SURB
// id, the body key, then the header's randomness.
func NewSURB(rand io.Reader, path []Hop) (*SURB, *SURBKeys, error) {
	if err := checkPath(path); err != nil {
		return nil, nil, err
	}
	s := &SURB{FirstHop: path[0].ID}
	k := &SURBKeys{}
	if _, err := io.ReadFull(rand, k.ID[:]); err != nil {
		return nil, nil, fmt.Errorf("onion: surb id: %w", err)
	}
	if _, err := io.ReadFull(rand, s.Key[:]); err != nil {
		return nil, nil, fmt.Errorf("onion: surb key: %w", err)
	}
	k.body = deriveSURBBody(s.Key[:])
	keys, err := buildHeader(rand, path, &Command{Kind: KindDeliverSURB, SURBID: k.ID}, s.Header[:])
	if err != nil {
		return nil, nil, err
	}
	for _, hk := range keys {
		k.hops = append(k.hops, hk.body)
	}
	return s, k, nil
}

// PacketFromSURB builds the reply packet carrying payload. The caller sends
// it to s.FirstHop.
func PacketFromSURB(s *SURB, payload []byte) ([]byte, error) {
	if len(payload) > PayloadCapacity {
		return nil, fmt.Errorf("%w: %d bytes, capacity %d", ErrPayloadSize, len(payload), PayloadCapacity)
	}
	if s.Header[0] != Version {
		return nil, fmt.Errorf("%w: header version %d", ErrSURB, s.Header[0])
	}
	body := deriveSURBBody(s.Key[:])
	pkt := make([]byte, PacketSize)
	copy(pkt, s.Header[:])
	encodeBody(pkt[offBody:], payload)
	wideEncrypt(&body, pkt[offBody:])
	return pkt, nil
}

// Open recovers the reply payload from the body that Unwrap returned with a
// deliver-surb command for k.ID. The caller deletes k afterwards: a SURB
// answers once (relays also drop a second use through the replay tag).
func (k *SURBKeys) Open(body []byte) ([]byte, error) {
	if len(body) != BodySize {
		return nil, fmt.Errorf("%w: body %d bytes, want %d", ErrSize, len(body), BodySize)
	}
	b := make([]byte, BodySize)
	copy(b, body)
	for i := len(k.hops) - 1; i >= 0; i-- {
		wideEncrypt(&k.hops[i], b)
	}
	wideDecrypt(&k.body, b)
	return decodeBody(b)
}

// MarshalBinary encodes the SURB: FirstHop || Header || Key.
func (s *SURB) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, SURBSize)
	out = append(out, s.FirstHop[:]...)
	out = append(out, s.Header[:]...)
	return append(out, s.Key[:]...), nil
}

// ParseSURB decodes a SURB encoded by MarshalBinary.
func ParseSURB(b []byte) (*SURB, error) {
	if len(b) != SURBSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrSURB, len(b), SURBSize)
	}
	s := new(SURB)
	copy(s.FirstHop[:], b)
	copy(s.Header[:], b[32:])
	copy(s.Key[:], b[32+HeaderSize:])
	if s.Header[0] != Version {
		return nil, fmt.Errorf("%w: header version %d", ErrVersion, s.Header[0])
	}
	return s, nil
}

// MarshalBinary encodes the keys for storage until the reply comes:
// Version || ID || hop count || hop body keys || reply body key. The result
// is secret.
func (k *SURBKeys) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, 2+SURBIDSize+(len(k.hops)+1)*bodyKeyLen)
	out = append(out, Version)
	out = append(out, k.ID[:]...)
	out = append(out, byte(len(k.hops)))
	for _, h := range k.hops {
		out = append(out, h[:]...)
	}
	return append(out, k.body[:]...), nil
}

// UnmarshalBinary decodes keys encoded by MarshalBinary.
func (k *SURBKeys) UnmarshalBinary(b []byte) error {
	if len(b) < 2+SURBIDSize || b[0] != Version {
		return fmt.Errorf("%w: bad surb keys header", ErrSURB)
	}
	n := int(b[1+SURBIDSize])
	if n < 1 || n > MaxHops || len(b) != 2+SURBIDSize+(n+1)*bodyKeyLen {
		return fmt.Errorf("%w: bad surb keys length", ErrSURB)
	}
	copy(k.ID[:], b[1:])
	rest := b[2+SURBIDSize:]
	k.hops = make([]bodyKey, n)
	for i := range k.hops {
		copy(k.hops[i][:], rest[i*bodyKeyLen:])
	}
	copy(k.body[:], rest[n*bodyKeyLen:])
	return nil
}
