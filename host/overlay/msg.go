package overlay

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/onemfive/onemfive/host/onion"
)

// Onion payload formats (what a final hop reads once the packet, or the
// reply block it arrived on, is open), version 1:
//
//	fragment: 'F' | message id (16) | index (1) | count (1) | chunk
//	gateway:  'G' | SURB (onion.SURBSize) | inner payload
//
// A gateway payload asks the node to fill the reply block with the inner
// payload and process the resulting packet itself (the block's first hop is
// the node). Every chunk but the last of a message is ChunkSize bytes, so
// every fragment fits a gateway payload.
//
// Messages (a message is its fragments' chunks concatenated):
//
//	data:        'D' | surbs (1) { SURB } | sealed courier packet
//	lease store: 'S' | envelope
//	lease query: 'Q' | nonce (8) | storage key (32) | surbs (1) { SURB }
//	lease reply: 'R' | nonce (8) | found=1 (1) | envelope
//	             'R' | nonce (8) | found=0 (1) | count (1) { len (2) | peer record }
//
// A not-found reply names the peers the storer knows closest to the key
// (full records: relays are public), so the asker can walk closer.
//
// An envelope (host/lease: Seal, DecodeStored) holds the owner's lease
// message, 'record len (2) | owner record | lease set', encrypted and
// signed under the owner's key blinded for the period; a storer keeps it
// under that blinded key, the storage key.
const (
	payloadFragment = 'F'
	payloadGateway  = 'G'

	msgData       = 'D'
	msgLeaseStore = 'S'
	msgLeaseQuery = 'Q'
	msgLeaseReply = 'R'

	msgIDSize    = 16
	fragHeader   = 1 + msgIDSize + 2
	gatewayHead  = 1 + onion.SURBSize
	maxInner     = onion.PayloadCapacity - gatewayHead
	maxFragments = 255
	maxSURBs     = MaxReplies
)

// ChunkSize is the message bytes one fragment carries.
const ChunkSize = maxInner - fragHeader

// MaxMessage is the largest message the overlay carries.
const MaxMessage = maxFragments * ChunkSize

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("overlay: malformed")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// fragment is one piece of a message.
type fragment struct {
	id           [msgIDSize]byte
	index, count int
	chunk        []byte
}

// fragmentMessage splits msg into fragment payloads.
func fragmentMessage(id [msgIDSize]byte, msg []byte) ([][]byte, error) {
	if len(msg) == 0 || len(msg) > MaxMessage {
		return nil, fmt.Errorf("overlay: message of %d bytes, want 1..%d", len(msg), MaxMessage)
	}
	n := (len(msg) + ChunkSize - 1) / ChunkSize
	out := make([][]byte, 0, n)
	for i := range n {
		chunk := msg[i*ChunkSize : min(len(msg), (i+1)*ChunkSize)]
		b := make([]byte, 0, fragHeader+len(chunk))
		b = append(b, payloadFragment)
		b = append(b, id[:]...)
		b = append(b, byte(i), byte(n))
		out = append(out, append(b, chunk...))
	}
	return out, nil
}

// decodeFragment parses a fragment payload.
func decodeFragment(b []byte) (fragment, error) {
	var f fragment
	if len(b) < fragHeader+1 || b[0] != payloadFragment {
		return f, malformed("fragment of %d bytes", len(b))
	}
	copy(f.id[:], b[1:1+msgIDSize])
	f.index, f.count = int(b[1+msgIDSize]), int(b[2+msgIDSize])
	f.chunk = b[fragHeader:]
	if f.count == 0 || f.index >= f.count {
		return f, malformed("fragment %d of %d", f.index, f.count)
	}
	if len(f.chunk) > ChunkSize || (f.index < f.count-1 && len(f.chunk) != ChunkSize) {
		return f, malformed("fragment %d of %d carries %d bytes", f.index, f.count, len(f.chunk))
	}
	return f, nil
}

// gatewayPayload wraps inner for the node that is s's first hop.
func gatewayPayload(s *onion.SURB, inner []byte) ([]byte, error) {
	if len(inner) > maxInner {
		return nil, fmt.Errorf("overlay: gateway payload: inner %d bytes, limit %d", len(inner), maxInner)
	}
	sb, err := s.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, gatewayHead+len(inner))
	b = append(b, payloadGateway)
	b = append(b, sb...)
	return append(b, inner...), nil
}

// decodeGateway parses a gateway payload.
func decodeGateway(b []byte) (*onion.SURB, []byte, error) {
	if len(b) < gatewayHead+1 || b[0] != payloadGateway {
		return nil, nil, malformed("gateway payload of %d bytes", len(b))
	}
	s, err := onion.ParseSURB(b[1:gatewayHead])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: gateway: %w", ErrMalformed, err)
	}
	return s, b[gatewayHead:], nil
}

// appendSURBs appends a count and the reply blocks.
func appendSURBs(b []byte, surbs []*onion.SURB) ([]byte, error) {
	if len(surbs) > maxSURBs {
		return nil, fmt.Errorf("overlay: %d reply blocks, limit %d", len(surbs), maxSURBs)
	}
	b = append(b, byte(len(surbs)))
	for _, s := range surbs {
		sb, err := s.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = append(b, sb...)
	}
	return b, nil
}

// readSURBs reads what appendSURBs wrote and returns the rest.
func readSURBs(b []byte) ([]*onion.SURB, []byte, error) {
	if len(b) < 1 {
		return nil, nil, malformed("reply block count missing")
	}
	n := int(b[0])
	b = b[1:]
	if n > maxSURBs || len(b) < n*onion.SURBSize {
		return nil, nil, malformed("%d reply blocks in %d bytes", n, len(b))
	}
	out := make([]*onion.SURB, 0, n)
	for i := range n {
		s, err := onion.ParseSURB(b[i*onion.SURBSize : (i+1)*onion.SURBSize])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: reply block %d: %w", ErrMalformed, i, err)
		}
		out = append(out, s)
	}
	return out, b[n*onion.SURBSize:], nil
}

// dataMsg is an end-to-end courier packet with reply blocks to its sender.
type dataMsg struct {
	surbs  []*onion.SURB
	sealed []byte
}

func (m dataMsg) encode() ([]byte, error) {
	b, err := appendSURBs([]byte{msgData}, m.surbs)
	if err != nil {
		return nil, err
	}
	return append(b, m.sealed...), nil
}

// leaseMsg is what a lease envelope holds: the owner's bare record (its
// keys, no addresses), its signed lease set and the peer records of its
// gateways, so that a sender that never met them can build paths to them:
//
//	record len (2) | record | set len (2) | set | count (1) { len (2) | gateway record }
type leaseMsg struct {
	record, set []byte
	gateways    [][]byte
}

// maxGatewayRecords bounds the gateway records in a lease message.
const maxGatewayRecords = 16

func appendLease(b []byte, m leaseMsg) ([]byte, error) {
	if len(m.record) == 0 || len(m.record) > 0xffff || len(m.set) == 0 || len(m.set) > 0xffff || len(m.gateways) > maxGatewayRecords {
		return nil, fmt.Errorf("overlay: lease message: record %d bytes, set %d bytes, %d gateway records", len(m.record), len(m.set), len(m.gateways))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.record)))
	b = append(b, m.record...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.set)))
	b = append(b, m.set...)
	b = append(b, byte(len(m.gateways)))
	for _, g := range m.gateways {
		if len(g) == 0 || len(g) > 0xffff {
			return nil, fmt.Errorf("overlay: lease message: gateway record of %d bytes", len(g))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(g)))
		b = append(b, g...)
	}
	return b, nil
}

func readLease(b []byte) (leaseMsg, error) {
	var m leaseMsg
	field := func(what string) ([]byte, error) {
		if len(b) < 2 {
			return nil, malformed("lease: %s length missing", what)
		}
		l := int(binary.BigEndian.Uint16(b))
		if l == 0 || len(b) < 2+l {
			return nil, malformed("lease: %s of %d bytes in %d", what, l, len(b)-2)
		}
		f := b[2 : 2+l]
		b = b[2+l:]
		return f, nil
	}
	var err error
	if m.record, err = field("record"); err != nil {
		return m, err
	}
	if m.set, err = field("set"); err != nil {
		return m, err
	}
	if len(b) < 1 || int(b[0]) > maxGatewayRecords {
		return m, malformed("lease: gateway record count missing or over %d", maxGatewayRecords)
	}
	n := int(b[0])
	b = b[1:]
	for range n {
		g, err := field("gateway record")
		if err != nil {
			return m, err
		}
		m.gateways = append(m.gateways, g)
	}
	if len(b) != 0 {
		return m, malformed("lease: %d trailing bytes", len(b))
	}
	return m, nil
}

// queryMsg asks for the envelope stored under target, a storage key; the
// answer goes back on surbs.
type queryMsg struct {
	nonce  uint64
	target [32]byte
	surbs  []*onion.SURB
}

func (m queryMsg) encode() ([]byte, error) {
	b := []byte{msgLeaseQuery}
	b = binary.BigEndian.AppendUint64(b, m.nonce)
	b = append(b, m.target[:]...)
	return appendSURBs(b, m.surbs)
}

// replyMsg answers a query with the envelope found or, failing that,
// records of peers closer to the key.
type replyMsg struct {
	nonce  uint64
	found  bool
	env    []byte
	closer [][]byte
}

// maxCloser bounds the records in a not-found reply.
const maxCloser = 8

func (m replyMsg) encode() ([]byte, error) {
	b := []byte{msgLeaseReply}
	b = binary.BigEndian.AppendUint64(b, m.nonce)
	if !m.found {
		if len(m.closer) > maxCloser {
			return nil, fmt.Errorf("overlay: lease reply: %d closer records, limit %d", len(m.closer), maxCloser)
		}
		b = append(b, 0, byte(len(m.closer)))
		for _, r := range m.closer {
			if len(r) == 0 || len(r) > 0xffff {
				return nil, fmt.Errorf("overlay: lease reply: record of %d bytes", len(r))
			}
			b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
			b = append(b, r...)
		}
		return b, nil
	}
	if len(m.env) == 0 {
		return nil, errors.New("overlay: lease reply: empty envelope")
	}
	return append(append(b, 1), m.env...), nil
}

// message is one decoded message; exactly one field is set.
type message struct {
	data  *dataMsg
	store []byte // a lease envelope
	query *queryMsg
	reply *replyMsg
}

// decodeMessage parses a reassembled message.
func decodeMessage(b []byte) (message, error) {
	var m message
	if len(b) < 1 {
		return m, malformed("empty message")
	}
	p := b[1:]
	switch b[0] {
	case msgData:
		surbs, rest, err := readSURBs(p)
		if err != nil {
			return m, err
		}
		if len(rest) == 0 {
			return m, malformed("data: no packet")
		}
		m.data = &dataMsg{surbs: surbs, sealed: rest}
	case msgLeaseStore:
		if len(p) == 0 {
			return m, malformed("lease store: no envelope")
		}
		m.store = p
	case msgLeaseQuery:
		if len(p) < 8+32 {
			return m, malformed("query of %d bytes", len(p))
		}
		q := &queryMsg{nonce: binary.BigEndian.Uint64(p)}
		copy(q.target[:], p[8:40])
		surbs, rest, err := readSURBs(p[40:])
		if err != nil {
			return m, err
		}
		if len(rest) != 0 || len(surbs) == 0 {
			return m, malformed("query: %d reply blocks, %d trailing bytes", len(surbs), len(rest))
		}
		q.surbs = surbs
		m.query = q
	case msgLeaseReply:
		if len(p) < 9 {
			return m, malformed("reply of %d bytes", len(p))
		}
		r := &replyMsg{nonce: binary.BigEndian.Uint64(p)}
		switch p[8] {
		case 0:
			rest := p[9:]
			if len(rest) == 0 {
				return m, malformed("not-found reply without a record count")
			}
			n := int(rest[0])
			if n > maxCloser {
				return m, malformed("not-found reply with %d records, limit %d", n, maxCloser)
			}
			rest = rest[1:]
			for range n {
				if len(rest) < 2 {
					return m, malformed("not-found reply: record length missing")
				}
				l := int(binary.BigEndian.Uint16(rest))
				if l == 0 || len(rest) < 2+l {
					return m, malformed("not-found reply: record of %d bytes in %d", l, len(rest)-2)
				}
				r.closer = append(r.closer, rest[2:2+l])
				rest = rest[2+l:]
			}
			if len(rest) != 0 {
				return m, malformed("not-found reply with %d trailing bytes", len(rest))
			}
		case 1:
			if len(p) == 9 {
				return m, malformed("found reply without an envelope")
			}
			r.found, r.env = true, p[9:]
		default:
			return m, malformed("reply: found byte %d", p[8])
		}
		m.reply = r
	default:
		return m, malformed("message type %d", b[0])
	}
	return m, nil
}
