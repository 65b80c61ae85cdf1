package relay_test

import (
	"context"
	"testing"

	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/relay"
)

// FuzzProcess feeds arbitrary bytes to a relay: it never panics, and each
// packet is either accepted or dropped with exactly one reason counted.
func FuzzProcess(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, onion.PacketSize))
	v := make([]byte, onion.PacketSize)
	v[0] = onion.Version
	v[1] = 9
	f.Add(v)
	f.Add(make([]byte, onion.PacketSize+1))

	a := newNode(f, "a", newClock(), newMemNet())
	f.Fuzz(func(t *testing.T, pkt []byte) {
		before := a.p.Stats()
		err := a.p.Process(context.Background(), relay.Incoming{Packet: pkt})
		after := a.p.Stats()
		if after.Received != before.Received+1 {
			t.Fatal("not received")
		}
		drops := after.DroppedTotal() - before.DroppedTotal()
		if (err != nil) != (drops == 1) || drops > 1 {
			t.Fatalf("err %v with %d drops counted", err, drops)
		}
	})
}
