package courier

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Inner message format, inside a sealed packet (version 1):
//
//	data: 0x01 | record len (2) | sender peer record | id len (1) | id | envelope (rest)
//	ack:  0x02 | count (1) | { id len (1) | id }*
const (
	msgData = 1
	msgAck  = 2
	maxIDs  = 255
)

var errMalformed = errors.New("courier: malformed message")

type dataMsg struct {
	record   []byte
	id       string
	envelope []byte
}

func (m dataMsg) encode() ([]byte, error) {
	if len(m.record) > 0xffff || len(m.id) == 0 || len(m.id) > 255 {
		return nil, fmt.Errorf("courier: encode: record %d bytes, id %d bytes", len(m.record), len(m.id))
	}
	b := make([]byte, 0, 1+2+len(m.record)+1+len(m.id)+len(m.envelope))
	b = append(b, msgData)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.record)))
	b = append(b, m.record...)
	b = append(b, byte(len(m.id)))
	b = append(b, m.id...)
	return append(b, m.envelope...), nil
}

func encodeAck(ids []string) []byte {
	b := []byte{msgAck, byte(len(ids))}
	for _, id := range ids {
		b = append(b, byte(len(id)))
		b = append(b, id...)
	}
	return b
}

// decodeMsg returns either a data message or a list of acked ids.
func decodeMsg(b []byte) (kind byte, d dataMsg, acks []string, err error) {
	if len(b) < 1 {
		return 0, d, nil, fmt.Errorf("%w: empty", errMalformed)
	}
	switch b[0] {
	case msgData:
		p := b[1:]
		if len(p) < 2 {
			return 0, d, nil, fmt.Errorf("%w: data: truncated record length", errMalformed)
		}
		rl := int(binary.BigEndian.Uint16(p))
		p = p[2:]
		if len(p) < rl+1 {
			return 0, d, nil, fmt.Errorf("%w: data: record truncated", errMalformed)
		}
		d.record, p = p[:rl], p[rl:]
		il := int(p[0])
		p = p[1:]
		if il == 0 || len(p) < il {
			return 0, d, nil, fmt.Errorf("%w: data: bad id length %d", errMalformed, il)
		}
		d.id, d.envelope = string(p[:il]), p[il:]
		return msgData, d, nil, nil
	case msgAck:
		if len(b) < 2 {
			return 0, d, nil, fmt.Errorf("%w: ack: truncated", errMalformed)
		}
		n, p := int(b[1]), b[2:]
		acks = make([]string, 0, n)
		for i := 0; i < n; i++ {
			if len(p) < 1 || int(p[0]) == 0 || len(p) < 1+int(p[0]) {
				return 0, d, nil, fmt.Errorf("%w: ack: id %d truncated", errMalformed, i)
			}
			acks = append(acks, string(p[1:1+int(p[0])]))
			p = p[1+int(p[0]):]
		}
		if len(p) != 0 {
			return 0, d, nil, fmt.Errorf("%w: ack: %d trailing bytes", errMalformed, len(p))
		}
		return msgAck, d, acks, nil
	default:
		return 0, d, nil, fmt.Errorf("%w: unknown type %d", errMalformed, b[0])
	}
}
