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

// FuzzUnwrap feeds arbitrary packets to one hop. Seeds include valid relay,
// deliver and deliver-surb packets for the fuzz key, so mutations reach the
// MAC, command and body decoders.
func FuzzUnwrap(f *testing.F) {
	priv := fuzzKey(f)
	me := Hop{Key: priv.PublicKey()}
	other := fuzzKey(f)
	r := &detRand{seed: "fuzz"}
	if pkt, err := NewPacket(r, []Hop{me, {Key: other.PublicKey()}}, []byte("relay")); err == nil {
		f.Add(pkt)
	}
	if pkt, err := NewPacket(r, []Hop{me}, []byte("deliver")); err == nil {
		f.Add(pkt)
	}
	if s, _, err := NewSURB(r, []Hop{me}); err == nil {
		pkt, _ := PacketFromSURB(s, []byte("reply"))
		f.Add(pkt)
	}
	f.Add(make([]byte, PacketSize))
	f.Fuzz(func(t *testing.T, pkt []byte) {
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
