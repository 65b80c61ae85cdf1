package webrelay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Service is the envelope service name frames travel under.
const Service = "onemfive.webrelay"

// Data frame sizes and windows: the requester picks them for the stream
// (Options) within these bounds; both sides use them.
const (
	MinChunk  = 512
	MaxChunk  = 32 << 10
	MaxWindow = 64
)

const (
	frameVersion = 1
	frameHeader  = 1 + 1 + 16 + 8

	typeOpen     = 'O'
	typeOpenVia  = 'V' // an open that names further peers (Hop) before the fetch
	typeAccepted = 'A'
	typeData     = 'D'
	typeFin      = 'F'
	typeAck      = 'K' // seq: how many data frames the receiver consumed

	maxNetworks = 8
	// MaxVia bounds the further peers one open names.
	MaxVia = 4
	// MaxHopDelay bounds the delay a Hop asks a peer to hold the open.
	MaxHopDelay = 10 * time.Minute
	maxTarget   = 300
	maxReason   = 512
)

// ErrMalformed is wrapped by errors about frames that do not decode.
var ErrMalformed = errors.New("webrelay: malformed frame")

// frame is one decoded frame.
type frame struct {
	typ    byte
	stream [16]byte
	seq    uint64
	// open
	networks []string
	target   string
	chunk    int // largest data frame either side sends
	window   int // data frames either side may have unacknowledged
	via      []Hop
	// accepted: network; fin: reason
	text string
	data []byte
}

func (f frame) encode() ([]byte, error) {
	b := make([]byte, 0, frameHeader+len(f.data)+len(f.target)+len(f.text)+16)
	b = append(b, frameVersion, f.typ)
	b = append(b, f.stream[:]...)
	b = binary.BigEndian.AppendUint64(b, f.seq)
	switch f.typ {
	case typeOpen, typeOpenVia:
		if (f.typ == typeOpenVia) != (len(f.via) > 0) || len(f.via) > MaxVia {
			return nil, fmt.Errorf("webrelay: open %q with %d further peers", f.typ, len(f.via))
		}
		if len(f.networks) == 0 || len(f.networks) > maxNetworks || f.target == "" || len(f.target) > maxTarget {
			return nil, fmt.Errorf("webrelay: open: %d networks, target of %d bytes", len(f.networks), len(f.target))
		}
		if f.chunk < MinChunk || f.chunk > MaxChunk || f.window < 1 || f.window > MaxWindow {
			return nil, fmt.Errorf("webrelay: open: chunk %d, window %d", f.chunk, f.window)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(f.chunk))
		b = binary.BigEndian.AppendUint16(b, uint16(f.window))
		var err error
		if b, err = appendNames(b, f.networks); err != nil {
			return nil, err
		}
		if f.typ == typeOpenVia {
			b = append(b, byte(len(f.via)))
			for _, h := range f.via {
				if b, err = appendNames(b, []string{h.Network}); err != nil {
					return nil, err
				}
				if len(h.PeerHas) > maxNetworks {
					return nil, fmt.Errorf("webrelay: open: a hop names %d networks", len(h.PeerHas))
				}
				if b, err = appendNames(b, h.PeerHas); err != nil {
					return nil, err
				}
				if h.DelayMin < 0 || h.DelayMax < h.DelayMin || h.DelayMax > MaxHopDelay {
					return nil, fmt.Errorf("webrelay: open: hop delay %v..%v", h.DelayMin, h.DelayMax)
				}
				b = binary.BigEndian.AppendUint32(b, uint32(h.DelayMin/time.Millisecond))
				b = binary.BigEndian.AppendUint32(b, uint32(h.DelayMax/time.Millisecond))
			}
		}
		b = append(b, f.target...)
	case typeAccepted:
		if f.text == "" || len(f.text) > 64 {
			return nil, fmt.Errorf("webrelay: accepted: network name of %d bytes", len(f.text))
		}
		b = append(b, f.text...)
	case typeData:
		if len(f.data) == 0 || len(f.data) > MaxChunk {
			return nil, fmt.Errorf("webrelay: data of %d bytes", len(f.data))
		}
		b = append(b, f.data...)
	case typeFin:
		if len(f.text) > maxReason {
			return nil, fmt.Errorf("webrelay: fin reason of %d bytes", len(f.text))
		}
		b = append(b, f.text...)
	case typeAck:
	default:
		return nil, fmt.Errorf("webrelay: frame type %q", f.typ)
	}
	return b, nil
}

// appendNames appends a count and length-prefixed names (networks).
func appendNames(b []byte, names []string) ([]byte, error) {
	if len(names) > maxNetworks {
		return nil, fmt.Errorf("webrelay: open: %d network names", len(names))
	}
	b = append(b, byte(len(names)))
	for _, n := range names {
		if n == "" || len(n) > 64 {
			return nil, fmt.Errorf("webrelay: open: network name of %d bytes", len(n))
		}
		b = append(b, byte(len(n)))
		b = append(b, n...)
	}
	return b, nil
}

// readNames reads what appendNames wrote: at least min names.
func readNames(body []byte, min int) ([]string, []byte, bool) {
	if len(body) < 1 || int(body[0]) < min || int(body[0]) > maxNetworks {
		return nil, nil, false
	}
	n := int(body[0])
	body = body[1:]
	var out []string
	for range n {
		if len(body) < 1 || body[0] == 0 || body[0] > 64 || len(body) < 1+int(body[0]) {
			return nil, nil, false
		}
		out = append(out, string(body[1:1+int(body[0])]))
		body = body[1+int(body[0]):]
	}
	return out, body, true
}

func decodeFrame(b []byte) (frame, error) {
	var f frame
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
	}
	if len(b) < frameHeader {
		return f, bad("%d bytes", len(b))
	}
	if b[0] != frameVersion {
		return f, bad("version %d", b[0])
	}
	f.typ = b[1]
	copy(f.stream[:], b[2:18])
	f.seq = binary.BigEndian.Uint64(b[18:26])
	body := b[frameHeader:]
	switch f.typ {
	case typeOpen, typeOpenVia:
		if len(body) < 6 {
			return f, bad("open: %d bytes", len(body))
		}
		f.chunk, f.window = int(binary.BigEndian.Uint32(body)), int(binary.BigEndian.Uint16(body[4:]))
		if f.chunk < MinChunk || f.chunk > MaxChunk || f.window < 1 || f.window > MaxWindow {
			return f, bad("open: chunk %d, window %d", f.chunk, f.window)
		}
		var ok bool
		if f.networks, body, ok = readNames(body[6:], 1); !ok {
			return f, bad("open: networks")
		}
		if f.typ == typeOpenVia {
			if len(body) < 1 || body[0] == 0 || int(body[0]) > MaxVia {
				return f, bad("open: further peer count")
			}
			n := int(body[0])
			body = body[1:]
			for range n {
				var h Hop
				var nets []string
				if nets, body, ok = readNames(body, 1); !ok || len(nets) != 1 {
					return f, bad("open: hop network")
				}
				h.Network = nets[0]
				if h.PeerHas, body, ok = readNames(body, 0); !ok {
					return f, bad("open: hop peer networks")
				}
				if len(body) < 8 {
					return f, bad("open: hop delay")
				}
				h.DelayMin = time.Duration(binary.BigEndian.Uint32(body)) * time.Millisecond
				h.DelayMax = time.Duration(binary.BigEndian.Uint32(body[4:])) * time.Millisecond
				body = body[8:]
				if h.DelayMax < h.DelayMin || h.DelayMax > MaxHopDelay {
					return f, bad("open: hop delay %v..%v", h.DelayMin, h.DelayMax)
				}
				f.via = append(f.via, h)
			}
		}
		if len(body) == 0 || len(body) > maxTarget {
			return f, bad("open: target of %d bytes", len(body))
		}
		host, port, err := net.SplitHostPort(string(body))
		if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
			return f, bad("open: target %.64q is not host:port", body)
		}
		f.target = string(body)
	case typeAccepted:
		if len(body) == 0 || len(body) > 64 {
			return f, bad("accepted: network of %d bytes", len(body))
		}
		f.text = string(body)
	case typeData:
		if len(body) == 0 || len(body) > MaxChunk {
			return f, bad("data of %d bytes", len(body))
		}
		f.data = body
	case typeFin:
		if len(body) > maxReason {
			return f, bad("fin reason of %d bytes", len(body))
		}
		f.text = string(body)
	case typeAck:
		if len(body) != 0 {
			return f, bad("ack with %d body bytes", len(body))
		}
	default:
		return f, bad("type %q", f.typ)
	}
	return f, nil
}
