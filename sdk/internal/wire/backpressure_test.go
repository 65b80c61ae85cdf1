package wire

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

// A transport that does not accept makes Send wait; ctx frees the caller
// without declaring the plugin gone, and the stream carries on afterwards.
func TestSendWaitsForAcceptance(t *testing.T) {
	f := newFake()
	f.gate = make(chan struct{})
	f.blocked = make(chan struct{}, 2)
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	if _, err := tc.Start(ctx, newRecHost()); err != nil {
		t.Fatal(err)
	}
	defer tc.Stop(ctx)

	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tc.Send(sctx, []transport.Packet{{Addr: "block", Data: []byte("1")}}) }()
	<-f.blocked // the plugin's transport holds the packet, unaccepted
	select {
	case err := <-done:
		t.Fatalf("send returned before the transport accepted: %v", err)
	default:
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || errors.Is(err, ErrPluginGone) {
		t.Fatalf("cancelled send: %v", err)
	}
	close(f.gate)
	if err := tc.Send(ctx, []transport.Packet{{Addr: "block", Data: []byte("2")}}); err != nil {
		t.Fatalf("send after the gate opened: %v", err)
	}
	if n := f.sentCount(); n != 2 {
		t.Fatalf("transport accepted %d packets, want 2 (the cancelled one was already on the wire)", n)
	}
}

func TestSplitBatches(t *testing.T) {
	mk := func(n, size int) []*pb.Packet {
		out := make([]*pb.Packet, n)
		for i := range out {
			out[i] = &pb.Packet{Addr: fmt.Sprint(i), Data: make([]byte, size)}
		}
		return out
	}
	cases := []struct {
		n, size int
		want    []int
	}{
		{1, 10, []int{1}},
		{MaxBatchPackets, 1, []int{MaxBatchPackets}},
		{MaxBatchPackets + 1, 1, []int{MaxBatchPackets, 1}},
		{40, 64 << 10, []int{15, 15, 10}}, // 15 * (64 KiB + 1..2 addr bytes) fits 1 MiB, 16 does not
		{1, 2 << 20, []int{1}},            // an oversize single packet still travels alone
	}
	for _, tc := range cases {
		got := splitBatches(mk(tc.n, tc.size))
		var lens []int
		total := 0
		for _, b := range got {
			lens = append(lens, len(b))
			total += len(b)
		}
		if fmt.Sprint(lens) != fmt.Sprint(tc.want) || total != tc.n {
			t.Errorf("%d packets of %d bytes: batches %v, want %v", tc.n, tc.size, lens, tc.want)
		}
	}
}
