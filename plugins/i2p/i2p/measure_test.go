package i2p

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestManagedPair runs two transports, each with its own i2pd joined to
// the private network, sends packets both ways (replying to the received
// source address) and logs figures: SESSION CREATE time, cold start to
// the first packet, the round trip of a small packet, RSS of i2pd. It
// asserts delivery and addresses, nothing about speed.
func TestManagedPair(t *testing.T) {
	n := privateNet(t)
	ctx := context.Background()
	t0 := time.Now()
	a, b := newTransport(t, managedBody(n), ""), newTransport(t, managedBody(n), "")
	ra, rb := new(transporttest.Recorder), new(transporttest.Recorder)
	if _, err := a.Start(ctx, ra); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Start(ctx, rb); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, []transport.Packet{{Addr: b.Addr(), Data: []byte("first")}}); err != nil {
		t.Fatal(err)
	}
	got := rb.WaitPackets(t, 1, 90*time.Second)
	t.Logf("cold start (two i2pd started, sessions created) → first packet: %v", time.Since(t0).Round(time.Millisecond))
	t.Logf("SESSION CREATE: A %v, B %v", a.Stats().SessionCreate.Round(time.Millisecond), b.Stats().SessionCreate.Round(time.Millisecond))
	if got[0].Addr != a.Addr() || string(got[0].Data) != "first" {
		t.Fatalf("B got %q from %s, want \"first\" from %s", got[0].Data, got[0].Addr, a.Addr())
	}
	if err := b.Send(ctx, []transport.Packet{{Addr: got[0].Addr, Data: []byte("reply")}}); err != nil {
		t.Fatal(err)
	}
	if back := ra.WaitPackets(t, 1, 90*time.Second); back[0].Addr != b.Addr() || string(back[0].Data) != "reply" {
		t.Fatalf("A got %q from %s", back[0].Data, back[0].Addr)
	}
	t.Logf("i2p round trip of a small packet (median of 10): %v", rtt(t, a, ra, b, rb, 10))
	for _, tr := range []*Transport{a, b} {
		kb, _ := hosttest.ProcKB(tr.RouterPID(), "VmRSS")
		t.Logf("i2pd pid %d RSS %d KiB", tr.RouterPID(), kb)
	}
}

func rtt(t *testing.T, a *Transport, ra *transporttest.Recorder, b *Transport, rb *transporttest.Recorder, n int) time.Duration {
	ctx := context.Background()
	var ds []time.Duration
	for i := range n {
		na, nb := ra.Len(), rb.Len()
		start := time.Now()
		a.Send(ctx, []transport.Packet{{Addr: b.Addr(), Data: []byte(fmt.Sprint("ping", i))}})
		rb.WaitPackets(t, nb+1, time.Minute)
		b.Send(ctx, []transport.Packet{{Addr: a.Addr(), Data: []byte(fmt.Sprint("pong", i))}})
		ra.WaitPackets(t, na+1, time.Minute)
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
