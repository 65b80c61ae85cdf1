package i2p

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/onemfive/onemfive/sdk/transport"
)

// Wire format of a packet stream. The dialing side writes, the accepting
// side reads: one version byte, then one frame per packet, a uint32
// big-endian length followed by that many bytes. The sender's address is
// not in the stream: the accepting router reports the dialing
// destination, which I2P's streaming layer authenticates.
const (
	streamVersion = 1
	frameHeader   = 4
)

var errMalformed = errors.New("malformed frame")

// appendFrame appends one packet's frame.
func appendFrame(b, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// readVersion reads and checks the stream's version byte.
func readVersion(r io.Reader) error {
	var v [1]byte
	if _, err := io.ReadFull(r, v[:]); err != nil {
		return err
	}
	if v[0] != streamVersion {
		return fmt.Errorf("%w: stream version %d, want %d", errMalformed, v[0], streamVersion)
	}
	return nil
}

// readFrame reads one frame into buf (grown as needed) and returns the
// packet, which aliases buf.
func readFrame(r io.Reader, buf []byte) (data, newBuf []byte, err error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, buf, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > transport.MaxPacketSize {
		return nil, buf, fmt.Errorf("%w: length %d exceeds %d", errMalformed, n, transport.MaxPacketSize)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	data = buf[:n]
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, buf, err
	}
	return data, buf, nil
}
