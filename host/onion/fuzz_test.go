package onion

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"errors"
	"testing"
)

func fuzzKey(f *testing.F) *ecdh.PrivateKey {
	seed := sha256.Sum256([]byte("fuzz key"))
	k, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		f.Fatal(err)
	}
	return k
}

// FuzzUnwrap feeds one hop packets derived from valid relay, deliver and
// deliver-surb packets for the fuzz key: hdr overwrites the start of the
// header, body the start of the body, and a kind byte >= 128 truncates the
// packet to len(hdr). The inputs stay small, so the fuzzer reaches the MAC,
// command and body decoders instead of churning 2 KiB inputs.
func FuzzUnwrap(f *testing.F) {
	priv := fuzzKey(f)
	me := Hop{Key: priv.PublicKey()}
	r := &detRand{seed: "fuzz"}
	var bases [][]byte
	if pkt, err := NewPacket(r, []Hop{me, me}, []byte("relay")); err == nil {
		bases = append(bases, pkt)
	}
	if pkt, err := NewPacket(r, []Hop{me}, []byte("deliver")); err == nil {
		bases = append(bases, pkt)
	}
	if s, _, err := NewSURB(r, []Hop{me}); err == nil {
		pkt, _ := PacketFromSURB(s, []byte("reply"))
		bases = append(bases, pkt)
	}
	if len(bases) != 3 {
		f.Fatal("seed packets")
	}
	for i := range bases {
		f.Add(uint8(i), []byte{Version}, []byte{})
	}
	f.Add(uint8(1), []byte{Version}, []byte{0xff})
	f.Add(uint8(0), bases[0][:40], []byte{})
	f.Add(uint8(200), bases[0][:100], []byte{})
	f.Fuzz(func(t *testing.T, kind uint8, hdr, body []byte) {
		pkt := bytes.Clone(bases[int(kind&127)%len(bases)])
		copy(pkt[:HeaderSize], hdr)
		copy(pkt[offBody:], body)
		if kind >= 128 {
			pkt = pkt[:min(len(hdr), PacketSize)]
		}
		in := bytes.Clone(pkt)
		res, err := Unwrap(priv, pkt)
		if !bytes.Equal(in, pkt) {
			t.Fatal("unwrap modified its input")
		}
		if err != nil {
			if res != nil {
				t.Fatal("result with error")
			}
			for _, e := range []error{ErrSize, ErrVersion, ErrMAC, ErrKey, ErrCommand, ErrPayloadTagged} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		switch res.Command.Kind {
		case KindRelay:
			if len(res.Packet) != PacketSize || res.Payload != nil {
				t.Fatal("relay result shape")
			}
		case KindDeliver:
			if res.Packet != nil || len(res.Payload) > PayloadCapacity {
				t.Fatal("deliver result shape")
			}
		case KindDeliverSURB:
			if res.Packet != nil || len(res.Payload) != BodySize {
				t.Fatal("deliver-surb result shape")
			}
		default:
			t.Fatalf("kind %v", res.Command.Kind)
		}
	})
}

// FuzzCommand checks the routing command decoder: whatever it accepts
// re-encodes to the same bytes.
func FuzzCommand(f *testing.F) {
	for _, c := range []Command{{Kind: KindRelay, Next: [32]byte{1}, Delay: 1500e6}, {Kind: KindDeliver}, {Kind: KindDeliverSURB, SURBID: [16]byte{7}}} {
		var b [CommandSize]byte
		c.encode(b[:])
		f.Add(b[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < CommandSize {
			return
		}
		c, err := decodeCommand(b)
		if err != nil {
			return
		}
		var out [CommandSize]byte
		c.encode(out[:])
		if !bytes.Equal(out[:], b[:CommandSize]) {
			t.Fatalf("%x re-encodes as %x", b[:CommandSize], out)
		}
	})
}

// FuzzSURB checks the SURB and SURB-key decoders.
func FuzzSURB(f *testing.F) {
	r := &detRand{seed: "fuzz surb"}
	priv := fuzzKey(f)
	s, k, err := NewSURB(r, []Hop{{Key: priv.PublicKey()}, {Key: priv.PublicKey()}})
	if err != nil {
		f.Fatal(err)
	}
	sb, _ := s.MarshalBinary()
	kb, _ := k.MarshalBinary()
	f.Add(sb)
	f.Add(kb)
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := ParseSURB(b); err == nil {
			out, _ := s.MarshalBinary()
			if !bytes.Equal(out, b) {
				t.Fatal("surb does not round-trip")
			}
		}
		var k SURBKeys
		if err := k.UnmarshalBinary(b); err == nil {
			out, _ := k.MarshalBinary()
			if !bytes.Equal(out, b) {
				t.Fatal("surb keys do not round-trip")
			}
			if _, err := k.Open(make([]byte, BodySize)); err == nil {
				t.Fatal("opened an all-zero body")
			}
		}
	})
}
