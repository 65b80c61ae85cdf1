package direct

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

func BenchmarkDecodeData(b *testing.B) {
	pkts := make([]transport.Packet, 32)
	for i := range pkts {
		pkts[i].Data = make([]byte, 2048)
	}
	frame := appendData(nil, pkts)[frameHeader:]
	b.SetBytes(int64(len(frame)))
	var out []transport.Packet
	for b.Loop() {
		var err error
		if out, err = decodeData(out[:0], frame, "x:1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoopback sends 2 KiB packets A→B over 127.0.0.1 in batches of
// 32 and counts a packet done when B's host has it.
func BenchmarkLoopback(b *testing.B) {
	mk := func() (*Transport, *transporttest.Recorder, string) {
		tr := New(WithLogger(hclog.NewNullLogger()))
		rec := new(transporttest.Recorder)
		addrs, err := tr.Start(context.Background(), rec)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { tr.Stop(context.Background()) })
		return tr, rec, addrs[0]
	}
	a, _, _ := mk()
	_, rec, addr := mk()
	batch := make([]transport.Packet, 32)
	for i := range batch {
		batch[i] = transport.Packet{Addr: addr, Data: make([]byte, 2048)}
	}
	b.SetBytes(int64(32 * 2048))
	sent := 0
	for b.Loop() {
		if err := a.Send(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		sent += len(batch)
	}
	if !rec.Wait(transporttest.Timeout, func(p []transport.Packet, _ []transport.Event) bool { return len(p) >= sent }) {
		b.Fatalf("delivered %d of %d", rec.Len(), sent)
	}
}
