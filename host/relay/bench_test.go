package relay_test

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/relay"
	"github.com/onemfive/onemfive/host/store"
)

type nopFwd struct{}

func (nopFwd) Forward(context.Context, [32]byte, []byte) error { return nil }

// BenchmarkRelay measures relay packets through one Processor on one
// goroutine: zero delay, a no-op Forwarder, a real Pebble store (so each
// packet pays the synced replay-tag commit).
func BenchmarkRelay(b *testing.B) {
	clock, net := newClock(), newMemNet()
	key := newNode(b, "k", clock, net)
	st, err := store.Open(b.TempDir(), hclog.NewNullLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	p, err := relay.New(relay.Config{
		Keys: key.ring, Schedule: testSchedule, Clock: clock,
		Replay: store.NewReplayCache(st), Queue: store.NewMixQueue(st),
		Forwarder: nopFwd{}, Deliverer: newDeliveries(),
	})
	if err != nil {
		b.Fatal(err)
	}
	path := []onion.Hop{key.hop(0), {ID: [32]byte{2}, Key: key.hop(0).Key}}
	pkts := make([][]byte, b.N)
	for i := range pkts {
		pkts[i] = mustPacket(b, path, "bench")
	}
	ctx := context.Background()
	b.SetBytes(onion.PacketSize)
	b.ResetTimer()
	for i := range b.N {
		if err := p.Process(ctx, relay.Incoming{Packet: pkts[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	if s := p.Stats(); s.Forwarded != uint64(b.N) {
		b.Fatalf("forwarded %d of %d", s.Forwarded, b.N)
	}
}
