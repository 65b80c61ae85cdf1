package tor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/onemfive/onemfive/sdk/transport"
)

// Frame types. A stream carries one hello, then data frames, one way:
// the side that dialed writes, the onion service side reads.
const (
	frameHello = 1 // version:uint8 (=1), the sender's onion address
	frameData  = 2 // one packet
)

const (
	frameHeader  = 5 // length:uint32 (type + payload), type:uint8
	maxFrame     = 1 + transport.MaxPacketSize
	helloVersion = 1
)

var errMalformed = errors.New("malformed frame")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, a...))
}

// appendFrame appends one frame.
func appendFrame(b []byte, typ byte, payload []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(1+len(payload)))
	b = append(b, typ)
	return append(b, payload...)
}

// appendHello appends a hello frame announcing addr.
func appendHello(b []byte, addr string) []byte {
	return appendFrame(b, frameHello, append([]byte{helloVersion}, addr...))
}

// decodeHello checks a hello payload and returns the announced address.
func decodeHello(p []byte) (string, error) {
	if len(p) < 1 || p[0] != helloVersion {
		return "", malformed("hello version")
	}
	addr := string(p[1:])
	if err := checkAddr(addr); err != nil {
		return "", malformed("hello address: %v", err)
	}
	return addr, nil
}

// readFrame reads one frame into buf (grown as needed) and returns its
// type and payload, which aliases buf.
func readFrame(r io.Reader, buf []byte) (typ byte, payload, newBuf []byte, err error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, buf, err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n < 1 || n > maxFrame {
		return 0, nil, buf, malformed("length %d", n)
	}
	typ = h[4]
	if typ != frameHello && typ != frameData {
		return 0, nil, buf, malformed("type %d", typ)
	}
	if cap(buf) < int(n-1) {
		buf = make([]byte, n-1)
	}
	payload = buf[:n-1]
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, buf, err
	}
	return typ, payload, buf, nil
}
