package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Records are encoded as one version byte followed by fields in a fixed
// order: strings and byte slices as a uvarint length then the bytes, times
// as a zig-zag varint of Unix nanoseconds (math.MinInt64 stands for the zero
// time.Time), counters as uvarints. Decoders reject unknown versions,
// truncated input, oversized lengths and trailing bytes.

const recordV1 = 1

var errCorrupt = errors.New("corrupt record")

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// timeNanos maps t to an int64 that orders like t: the zero time is
// math.MinInt64, times outside the UnixNano range are clamped to its ends.
func timeNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func nanosTime(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// timeKey is the 8-byte big-endian form of t for index keys: byte order
// equals time order, the zero time first.
func timeKey(t time.Time) [8]byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(timeNanos(t))^(1<<63))
	return b
}

type encoder struct{ b []byte }

func (e *encoder) bytes(p []byte) {
	e.b = binary.AppendUvarint(e.b, uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) time(t time.Time) { e.b = binary.AppendVarint(e.b, timeNanos(t)) }
func (e *encoder) uint(u uint64)    { e.b = binary.AppendUvarint(e.b, u) }

type decoder struct {
	b   []byte
	err error
}

func newDecoder(b []byte) *decoder {
	d := &decoder{b: b}
	if len(b) == 0 {
		d.err = fmt.Errorf("%w: empty", errCorrupt)
	} else if b[0] != recordV1 {
		d.err = fmt.Errorf("%w: unknown version %d", errCorrupt, b[0])
	} else {
		d.b = b[1:]
	}
	return d
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errCorrupt, what)
	}
}

func (d *decoder) uint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(what string) []byte {
	n := d.uint(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(what + " length")
		return nil
	}
	out := make([]byte, n)
	copy(out, d.b[:n])
	d.b = d.b[n:]
	return out
}

func (d *decoder) str(what string) string { return string(d.bytes(what)) }

func (d *decoder) time(what string) time.Time {
	if d.err != nil {
		return time.Time{}
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return time.Time{}
	}
	d.b = d.b[n:]
	return nanosTime(v)
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.b))
	}
	return d.err
}

func encodeOutgoing(o *Outgoing) []byte {
	e := encoder{b: make([]byte, 0, 1+len(o.ID)+len(o.Dest)+len(o.Data)+40)}
	e.b = append(e.b, recordV1)
	e.str(o.ID)
	e.str(o.Dest)
	e.bytes(o.Data)
	e.time(o.Created)
	e.time(o.NextAttempt)
	e.time(o.Expires)
	e.uint(uint64(o.Attempts))
	return e.b
}

func decodeOutgoing(b []byte) (Outgoing, error) {
	d := newDecoder(b)
	var o Outgoing
	o.ID = d.str("id")
	o.Dest = d.str("dest")
	o.Data = d.bytes("data")
	o.Created = d.time("created")
	o.NextAttempt = d.time("next attempt")
	o.Expires = d.time("expires")
	a := d.uint("attempts")
	if a > math.MaxInt32 {
		d.fail("attempts")
	}
	o.Attempts = int(a)
	return o, d.finish()
}

// seenRecord is the value of a seen-set entry.
type seenRecord struct {
	Received time.Time
	Seq      uint64
}

func encodeSeen(r seenRecord) []byte {
	e := encoder{b: make([]byte, 0, 24)}
	e.b = append(e.b, recordV1)
	e.time(r.Received)
	e.uint(r.Seq)
	return e.b
}

func decodeSeen(b []byte) (seenRecord, error) {
	d := newDecoder(b)
	var r seenRecord
	r.Received = d.time("received")
	r.Seq = d.uint("seq")
	return r, d.finish()
}

// encodeInbox encodes an inbox item; Seq lives in the key, not the value.
func encodeInbox(it *InboxItem) []byte {
	e := encoder{b: make([]byte, 0, 1+len(it.ID)+len(it.From)+len(it.Data)+24)}
	e.b = append(e.b, recordV1)
	e.str(it.ID)
	e.str(it.From)
	e.time(it.Received)
	e.bytes(it.Data)
	return e.b
}

func decodeInbox(seq uint64, b []byte) (InboxItem, error) {
	d := newDecoder(b)
	it := InboxItem{Seq: seq}
	it.ID = d.str("id")
	it.From = d.str("from")
	it.Received = d.time("received")
	it.Data = d.bytes("data")
	return it, d.finish()
}
