package direct

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/sdk/transport"
)

func TestFrameRoundTrip(t *testing.T) {
	pkts := []transport.Packet{
		{Data: []byte{}},
		{Data: []byte("a")},
		{Data: bytes.Repeat([]byte{0xab}, transport.MaxPacketSize)},
	}
	var stream []byte
	stream = appendHello(stream, "127.0.0.1:4000")
	stream = appendData(stream, pkts)
	stream = appendPing(stream, framePing, 42)
	stream = appendPing(stream, framePong, 43)

	fr := frameReader{r: bytes.NewReader(stream)}
	typ, p, err := fr.next()
	if err != nil || typ != frameHello {
		t.Fatalf("frame 1 = %v, %v; want hello", typ, err)
	}
	if addr, err := decodeHello(p); err != nil || addr != "127.0.0.1:4000" {
		t.Fatalf("hello = %q, %v", addr, err)
	}
	typ, p, err = fr.next()
	if err != nil || typ != frameData {
		t.Fatalf("frame 2 = %v, %v; want data", typ, err)
	}
	got, err := decodeData(nil, p, "peer:1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pkts) {
		t.Fatalf("decoded %d packets, want %d", len(got), len(pkts))
	}
	for i := range pkts {
		if !bytes.Equal(got[i].Data, pkts[i].Data) || got[i].Addr != "peer:1" {
			t.Errorf("packet %d: %d bytes from %q, want %d bytes from peer:1", i, len(got[i].Data), got[i].Addr, len(pkts[i].Data))
		}
	}
	for _, want := range []struct {
		typ   frameType
		nonce uint64
	}{{framePing, 42}, {framePong, 43}} {
		typ, p, err = fr.next()
		if err != nil || typ != want.typ {
			t.Fatalf("frame = %v, %v; want %v", typ, err, want.typ)
		}
		if n, err := decodePing(p); err != nil || n != want.nonce {
			t.Fatalf("nonce = %d, %v; want %d", n, err, want.nonce)
		}
	}
	if _, _, err := fr.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after last frame: %v, want EOF", err)
	}
}

func TestMaxBatchFitsFrame(t *testing.T) {
	// The writer batches packets up to maxDataPayload; the largest such
	// frame must still be readable.
	n := maxDataPayload / (pktHeader + transport.MaxPacketSize)
	pkts := make([]transport.Packet, n)
	for i := range pkts {
		pkts[i].Data = make([]byte, transport.MaxPacketSize)
	}
	if dataSize(pkts) > maxDataPayload {
		t.Fatalf("dataSize %d > maxDataPayload %d", dataSize(pkts), maxDataPayload)
	}
	fr := frameReader{r: bytes.NewReader(appendData(nil, pkts))}
	_, p, err := fr.next()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeData(nil, p, "x:1"); err != nil || len(got) != n {
		t.Fatalf("decoded %d, %v; want %d", len(got), err, n)
	}
}

func frameBytes(typ byte, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)))
	return append(append(b, typ), payload...)
}

func TestMalformedFrames(t *testing.T) {
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"zero length", u32(0), "zero-length"},
		{"oversized length", u32(maxFrameSize + 1), "exceeds"},
		{"unknown type", frameBytes(9, nil), "unknown frame type 9"},
		{"hello short", frameBytes(1, []byte{1}), "too short"},
		{"hello version", frameBytes(1, cat([]byte{2, 3}, []byte("a:1"))), "hello version 2"},
		{"hello length mismatch", frameBytes(1, cat([]byte{1, 9}, []byte("a:1"))), "does not match"},
		{"hello no port", frameBytes(1, cat([]byte{1, 1}, []byte("a"))), "hello address"},
		{"hello port zero", frameBytes(1, cat([]byte{1, 3}, []byte("a:0"))), "not in 1..65535"},
		{"data short", frameBytes(2, []byte{0}), "too short"},
		{"data empty", frameBytes(2, u16(0)), "no packets"},
		{"data truncated header", frameBytes(2, cat(u16(1), []byte{0, 0})), "truncated"},
		{"data packet too big", frameBytes(2, cat(u16(1), u32(transport.MaxPacketSize+1))), "exceeds"},
		{"data packet past end", frameBytes(2, cat(u16(1), u32(10), []byte("abc"))), "claims 10 bytes"},
		{"data trailing", frameBytes(2, cat(u16(1), u32(1), []byte("ab"))), "trailing"},
		{"ping short", frameBytes(3, []byte{1, 2, 3}), "want 8"},
		{"pong long", frameBytes(4, make([]byte, 9)), "want 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeStream(tt.input)
			if !errors.Is(err, errMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want errMalformed containing %q", err, tt.want)
			}
		})
	}
}

func TestTruncatedFrameIsUnexpectedEOF(t *testing.T) {
	full := appendPing(nil, framePing, 1)
	fr := frameReader{r: bytes.NewReader(full[:len(full)-1])}
	if _, _, err := fr.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error = %v, want io.ErrUnexpectedEOF", err)
	}
}

// decodeStream reads and decodes every frame in b, as a connection's
// reader would, and returns the first error (nil at a clean end).
func decodeStream(b []byte) error {
	fr := frameReader{r: bytes.NewReader(b)}
	for {
		typ, p, err := fr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch typ {
		case frameHello:
			_, err = decodeHello(p)
		case frameData:
			_, err = decodeData(nil, p, "x:1")
		case framePing, framePong:
			_, err = decodePing(p)
		}
		if err != nil {
			return err
		}
	}
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader and decoders:
// they must never panic, never return a packet over MaxPacketSize, and
// whatever decodes must re-encode to the same bytes.
func FuzzReadFrame(f *testing.F) {
	f.Add(appendHello(nil, "127.0.0.1:4000"))
	f.Add(appendData(nil, []transport.Packet{{Data: []byte("x")}, {Data: nil}}))
	f.Add(appendPing(nil, framePing, 7))
	f.Add(frameBytes(2, []byte{0, 1, 0, 0, 0, 5, 'a'}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr := frameReader{r: bytes.NewReader(b)}
		for {
			typ, p, err := fr.next()
			if err != nil {
				if !errors.Is(err, errMalformed) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if len(p)+1 > maxFrameSize {
				t.Fatalf("frame of %d bytes passed the limit", len(p)+1)
			}
			var re []byte
			switch typ {
			case frameHello:
				addr, err := decodeHello(p)
				if err != nil {
					return
				}
				re = appendHello(nil, addr)
			case frameData:
				pkts, err := decodeData(nil, p, "x:1")
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if len(pk.Data) > transport.MaxPacketSize {
						t.Fatalf("decoded a %d-byte packet", len(pk.Data))
					}
				}
				re = appendData(nil, pkts)
			case framePing, framePong:
				n, err := decodePing(p)
				if err != nil {
					return
				}
				re = appendPing(nil, typ, n)
			}
			if want := frameBytes(byte(typ), p); !bytes.Equal(re, want) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", re, want)
			}
		}
	})
}
