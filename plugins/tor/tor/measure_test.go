package tor

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/plugins/direct/direct"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestMeasure logs figures (set ONEMFIVE_TOR_MEASURE=1): cold start to
// the first packet over an onion service, packet round trip over Tor and
// over direct TCP, and tor's RSS. It asserts nothing about speed.
func TestMeasure(t *testing.T) {
	if os.Getenv("ONEMFIVE_TOR_MEASURE") == "" {
		t.Skip("set ONEMFIVE_TOR_MEASURE=1 to measure")
	}
	n := privateNet(t)
	ctx := context.Background()
	t0 := time.Now()
	a, b := newTransport(t, n.ClientTorrc(), ""), newTransport(t, n.ClientTorrc(), "")
	ra, rb := new(transporttest.Recorder), new(transporttest.Recorder)
	a.Start(ctx, ra)
	b.Start(ctx, rb)
	a.Send(ctx, []transport.Packet{{Addr: b.Addr(), Data: []byte("first")}})
	rb.WaitPackets(t, 1, time.Minute)
	t.Logf("cold start (two tor clients started, onion services published) → first packet: %v", time.Since(t0).Round(time.Millisecond))
	b.Send(ctx, []transport.Packet{{Addr: a.Addr(), Data: []byte("first back")}})
	ra.WaitPackets(t, 1, time.Minute)
	t.Logf("tor round trip (median of 20): %v", rtt(t, a, ra, b.Addr(), b, rb, a.Addr()))

	da, db := direct.New(direct.WithLogger(hclog.NewNullLogger())), direct.New(direct.WithLogger(hclog.NewNullLogger()))
	dra, drb := new(transporttest.Recorder), new(transporttest.Recorder)
	aa, _ := da.Start(ctx, dra)
	ba, _ := db.Start(ctx, drb)
	defer da.Stop(ctx)
	defer db.Stop(ctx)
	t.Logf("direct round trip (median of 20): %v", rtt(t, da, dra, ba[0], db, drb, aa[0]))
	for _, tr := range []*Transport{a, b} {
		st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", tr.TorPID()))
		for _, l := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(l, "VmRSS") {
				t.Logf("tor pid %d %s", tr.TorPID(), l)
			}
		}
	}
}

func rtt(t *testing.T, a transport.Transport, ra *transporttest.Recorder, bAddr string, b transport.Transport, rb *transporttest.Recorder, aAddr string) time.Duration {
	ctx := context.Background()
	var ds []time.Duration
	for i := range 20 {
		na, nb := ra.Len(), rb.Len()
		start := time.Now()
		a.Send(ctx, []transport.Packet{{Addr: bAddr, Data: []byte(fmt.Sprint("ping", i))}})
		rb.WaitPackets(t, nb+1, time.Minute)
		b.Send(ctx, []transport.Packet{{Addr: aAddr, Data: []byte(fmt.Sprint("pong", i))}})
		ra.WaitPackets(t, na+1, time.Minute)
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
