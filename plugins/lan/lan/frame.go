package lan

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/onemfive/onemfive/host/node"
)

// Announcement frame, one per UDP datagram, big endian:
//
//	"OM5A" | version=1 | seq (8) | record length (2) | record
//
// The record is the host's signed peer record (host/node), carried
// unchanged. seq is not signed: freshness comes from the record's signed
// Issued time; seq only tells repeats of one record apart, so a receiver
// can see a peer is still there without asking the host to look at the
// same record again.
const (
	frameMagic   = "OM5A"
	frameVersion = 1
	frameHeader  = 4 + 1 + 8 + 2
	// MaxFrameSize bounds an announcement datagram.
	MaxFrameSize = frameHeader + node.MaxRecordSize
)

// ErrBadFrame is wrapped by every announcement decoding error.
var ErrBadFrame = errors.New("lan: bad announcement")

// announcement is a decoded frame.
type announcement struct {
	seq    uint64
	record []byte // aliases the datagram
}

// appendFrame appends the frame for record and seq to b.
func appendFrame(b []byte, seq uint64, record []byte) ([]byte, error) {
	if len(record) > node.MaxRecordSize {
		return b, fmt.Errorf("%w: record is %d bytes, limit %d", ErrBadFrame, len(record), node.MaxRecordSize)
	}
	b = append(b, frameMagic...)
	b = append(b, frameVersion)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint16(b, uint16(len(record)))
	return append(b, record...), nil
}

// decodeFrame parses a datagram's framing only; the record inside is
// checked by verify.
func decodeFrame(b []byte) (announcement, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadFrame, fmt.Sprintf(format, a...))
	}
	switch {
	case len(b) > MaxFrameSize:
		return announcement{}, bad("%d bytes, limit %d", len(b), MaxFrameSize)
	case len(b) < frameHeader:
		return announcement{}, bad("truncated (%d bytes)", len(b))
	case string(b[:4]) != frameMagic:
		return announcement{}, bad("wrong magic")
	case b[4] != frameVersion:
		return announcement{}, bad("unsupported version %d", b[4])
	}
	n := int(binary.BigEndian.Uint16(b[13:15]))
	if len(b)-frameHeader != n {
		return announcement{}, bad("record length %d, %d bytes follow", n, len(b)-frameHeader)
	}
	return announcement{seq: binary.BigEndian.Uint64(b[5:13]), record: b[frameHeader:]}, nil
}

// heard is a verified announcement.
type heard struct {
	seq  uint64
	rec  *node.Record
	raw  []byte
	addr string // the peer's lan address to report, chosen by linkAddr
}

// verify decodes a datagram and the record in it, checking the record's
// signature, that it is not our own, and that it lists a lan address.
func verify(b []byte, self node.ID) (heard, error) {
	a, err := decodeFrame(b)
	if err != nil {
		return heard{}, err
	}
	rec, err := node.DecodeRecord(a.record)
	if err != nil {
		return heard{}, fmt.Errorf("%w: %w", ErrBadFrame, err)
	}
	if self != "" && rec.ID == self {
		return heard{}, errSelf
	}
	if len(rec.Addresses[Network]) == 0 {
		return heard{}, fmt.Errorf("%w: record of %s has no %s address", ErrBadFrame, rec.ID.Short(), Network)
	}
	return heard{seq: a.seq, rec: rec, raw: a.record}, nil
}

var errSelf = errors.New("lan: own announcement")
