package relay

import (
	"bytes"
	"testing"

	"github.com/onemfive/onemfive/host/onion"
)

func FuzzDecodeHeld(f *testing.F) {
	var next [32]byte
	next[0] = 1
	f.Add(encodeHeld(next, make([]byte, onion.PacketSize)))
	f.Add([]byte{})
	f.Add([]byte{heldVersion})
	f.Add(append([]byte{2}, make([]byte, heldSize-1)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, pkt, err := decodeHeld(b)
		if err != nil {
			return
		}
		if len(pkt) != onion.PacketSize {
			t.Fatalf("packet %d bytes", len(pkt))
		}
		if again := encodeHeld(n, pkt); !bytes.Equal(again, b) {
			t.Fatal("decode/encode does not round-trip")
		}
	})
}
