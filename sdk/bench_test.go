package sdk

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/onemfive/onemfive/sdk/transport"
)

const benchPacketSize = 2048

type unarySender interface {
	SendUnary(ctx context.Context, pkts []transport.Packet) error
}

// benchTransport returns a started transport client talking to a sink,
// in-process over a real socket or in a real plugin subprocess.
func benchTransport(b *testing.B, where string) TransportClient {
	b.Helper()
	var rpc plugin.ClientProtocol
	switch where {
	case "inproc":
		rpc = serveInProcess(b, &sink{})
	case "subprocess":
		_, rpc = startSubprocess(b, nil)
	}
	tc, err := DispenseTransport(rpc)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tc.Start(context.Background(), newHostRec()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tc.Stop(context.Background()) })
	return tc
}

func packetBatch(n int) []transport.Packet {
	pkts := make([]transport.Packet, n)
	for i := range pkts {
		pkts[i] = transport.Packet{Addr: "peer.example:4242", Data: make([]byte, benchPacketSize)}
	}
	return pkts
}

// BenchmarkPackets measures host->plugin 2 KiB packets/s over the batched
// stream and over unary RPCs. Names read mode-packetsPerCall x senders (on
// two cores; senders scale with GOMAXPROCS).
func BenchmarkPackets(b *testing.B) {
	for _, where := range []string{"inproc", "subprocess"} {
		for _, mode := range []struct {
			name    string
			perCall int
			unary   bool
			par     int // senders per GOMAXPROCS
		}{
			{"stream-1x16", 1, false, 8}, {"stream-1x128", 1, false, 64}, {"stream-32x16", 32, false, 8},
			{"unary-1x16", 1, true, 8}, {"unary-1x128", 1, true, 64},
		} {
			b.Run(where+"/"+mode.name, func(b *testing.B) {
				tc := benchTransport(b, where)
				send := tc.Send
				if mode.unary {
					send = tc.(unarySender).SendUnary
				}
				b.SetBytes(int64(benchPacketSize * mode.perCall))
				b.SetParallelism(mode.par)
				b.ResetTimer()
				cpu0 := cpuTime()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					pkts := packetBatch(mode.perCall)
					ctx := context.Background()
					for pb.Next() {
						if err := send(ctx, pkts); err != nil {
							b.Error(err)
							return
						}
					}
				})
				el := time.Since(start)
				n := float64(b.N * mode.perCall)
				b.ReportMetric(n/el.Seconds(), "pkts/s")
				// CPU per packet does not depend on what else the machine
				// runs; in-process it covers both sides, else the host's.
				b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/pkt")
			})
		}
	}
}

// BenchmarkStreamVsUnary runs, in each iteration, the same number of 2 KiB
// packets three ways with 16 senders: the batched stream as a host uses it
// (32 packets per Send), the stream with one packet per Send, and unary
// RPCs with one packet per call; it reports each rate and the ratios to
// unary from the same run.
func BenchmarkStreamVsUnary(b *testing.B) {
	for _, where := range []string{"inproc", "subprocess"} {
		b.Run(where, func(b *testing.B) {
			tc := benchTransport(b, where)
			const senders, each = 16, 256 // packets per sender per load
			load := func(perCall int, send func(context.Context, []transport.Packet) error) time.Duration {
				var wg sync.WaitGroup
				start := time.Now()
				for range senders {
					wg.Add(1)
					go func() {
						defer wg.Done()
						pkts := packetBatch(perCall)
						for range each / perCall {
							if err := send(context.Background(), pkts); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				return time.Since(start)
			}
			var batched, single, unary time.Duration
			for b.Loop() {
				batched += load(32, tc.Send)
				single += load(1, tc.Send)
				unary += load(1, tc.(unarySender).SendUnary)
			}
			n := float64(b.N * senders * each)
			bps, sps, ups := n/batched.Seconds(), n/single.Seconds(), n/unary.Seconds()
			b.ReportMetric(bps, "stream32-pkts/s")
			b.ReportMetric(sps, "stream1-pkts/s")
			b.ReportMetric(ups, "unary1-pkts/s")
			b.ReportMetric(bps/ups, "stream32/unary1")
			b.ReportMetric(sps/ups, "stream1/unary1")
		})
	}
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
