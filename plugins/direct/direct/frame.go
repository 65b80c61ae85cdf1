package direct

// Frame layout (all integers big-endian):
//
//	frame  = length:uint32 type:uint8 payload   (length counts type+payload)
//	hello  = version:uint8 addrlen:uint8 addr   (version 1)
//	data   = count:uint16 count*(len:uint32 bytes)   count >= 1, each len <= MaxPacketSize
//	ping   = nonce:uint64
//	pong   = nonce:uint64 (echoes the ping)
//
// Decoding is pure and bounded: a frame never exceeds maxFrameSize, and a
// decoder never allocates more than the frame it was given.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/onemfive/onemfive/sdk/transport"
)

type frameType uint8

const (
	frameHello frameType = 1
	frameData  frameType = 2
	framePing  frameType = 3
	framePong  frameType = 4
)

func (f frameType) String() string {
	switch f {
	case frameHello:
		return "hello"
	case frameData:
		return "data"
	case framePing:
		return "ping"
	case framePong:
		return "pong"
	}
	return fmt.Sprintf("type(%d)", uint8(f))
}

const (
	helloVersion = 1
	// maxFrameSize bounds type+payload of one frame.
	maxFrameSize = 1 << 20
	frameHeader  = 5 // length + type
	dataHeader   = 2 // count
	pktHeader    = 4 // per-packet length
	maxAddrLen   = 255
	// maxDataPayload is the most packet bytes (with their length
	// prefixes) one data frame carries.
	maxDataPayload = maxFrameSize - 1 - dataHeader
)

// errMalformed marks every decoding failure, so callers can tell a bad peer
// from an I/O error.
var errMalformed = errors.New("malformed frame")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// frameReader reads frames from a stream, reusing one buffer.
type frameReader struct {
	r   io.Reader
	buf []byte
}

// next reads one frame and returns its type and payload. The payload
// aliases the reader's buffer and is valid until the next call.
func (fr *frameReader) next() (frameType, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1 {
		return 0, nil, malformed("zero-length frame")
	}
	if n > maxFrameSize {
		return 0, nil, malformed("frame length %d exceeds %d", n, maxFrameSize)
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	buf := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	typ := frameType(buf[0])
	switch typ {
	case frameHello, frameData, framePing, framePong:
	default:
		return 0, nil, malformed("unknown frame type %d", buf[0])
	}
	return typ, buf[1:], nil
}

// appendFrameHeader appends the header of a frame of type typ whose payload
// is payloadLen bytes.
func appendFrameHeader(dst []byte, typ frameType, payloadLen int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(1+payloadLen))
	return append(dst, byte(typ))
}

// appendHello appends a complete hello frame advertising addr.
func appendHello(dst []byte, addr string) []byte {
	dst = appendFrameHeader(dst, frameHello, 2+len(addr))
	dst = append(dst, helloVersion, byte(len(addr)))
	return append(dst, addr...)
}

// decodeHello returns the address a hello payload advertises.
func decodeHello(p []byte) (string, error) {
	if len(p) < 2 {
		return "", malformed("hello of %d bytes is too short", len(p))
	}
	if p[0] != helloVersion {
		return "", malformed("hello version %d, want %d", p[0], helloVersion)
	}
	n := int(p[1])
	if len(p) != 2+n {
		return "", malformed("hello address length %d does not match %d payload bytes", n, len(p)-2)
	}
	addr := string(p[2:])
	if err := checkAddr(addr); err != nil {
		return "", malformed("hello address: %v", err)
	}
	return addr, nil
}

// checkAddr accepts host:port with a non-empty host and a port in 1..65535.
func checkAddr(addr string) error {
	if addr == "" {
		return errors.New("empty address")
	}
	if len(addr) > maxAddrLen {
		return fmt.Errorf("address of %d bytes exceeds %d", len(addr), maxAddrLen)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("address %q has no host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address %q: port %q is not in 1..65535", addr, port)
	}
	return nil
}

// dataSize is the payload size of a data frame carrying pkts.
func dataSize(pkts []transport.Packet) int {
	n := dataHeader
	for _, p := range pkts {
		n += pktHeader + len(p.Data)
	}
	return n
}

// appendData appends a complete data frame carrying pkts. The caller keeps
// the batch within maxDataPayload and 65535 packets.
func appendData(dst []byte, pkts []transport.Packet) []byte {
	dst = appendFrameHeader(dst, frameData, dataSize(pkts))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(pkts)))
	for _, p := range pkts {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.Data)))
		dst = append(dst, p.Data...)
	}
	return dst
}

// decodeData appends the packets of a data payload to pkts, each labelled
// with from. Packet data aliases p.
func decodeData(pkts []transport.Packet, p []byte, from string) ([]transport.Packet, error) {
	if len(p) < dataHeader {
		return pkts, malformed("data frame of %d bytes is too short", len(p))
	}
	count := int(binary.BigEndian.Uint16(p))
	if count == 0 {
		return pkts, malformed("data frame with no packets")
	}
	rest := p[dataHeader:]
	for i := range count {
		if len(rest) < pktHeader {
			return pkts, malformed("data frame truncated at packet %d of %d", i, count)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[pktHeader:]
		if n > transport.MaxPacketSize {
			return pkts, malformed("packet %d of %d bytes exceeds %d", i, n, transport.MaxPacketSize)
		}
		if uint32(len(rest)) < n {
			return pkts, malformed("packet %d claims %d bytes, %d left", i, n, len(rest))
		}
		pkts = append(pkts, transport.Packet{Addr: from, Data: rest[:n:n]})
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return pkts, malformed("%d trailing bytes after %d packets", len(rest), count)
	}
	return pkts, nil
}

// appendPing appends a complete ping or pong frame.
func appendPing(dst []byte, typ frameType, nonce uint64) []byte {
	dst = appendFrameHeader(dst, typ, 8)
	return binary.BigEndian.AppendUint64(dst, nonce)
}

// decodePing returns the nonce of a ping or pong payload.
func decodePing(p []byte) (uint64, error) {
	if len(p) != 8 {
		return 0, malformed("ping/pong of %d bytes, want 8", len(p))
	}
	return binary.BigEndian.Uint64(p), nil
}
