package overlay

import (
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

// BenchmarkNextHopRecord: what a relay pays per forwarded packet to find
// the next hop's record, cached (the overlay's path) against decoding and
// verifying the record each time (the baseline, in the same run).
func BenchmarkNextHopRecord(b *testing.B) {
	net := &memNet{nodes: map[string]*testNode{}, down: map[string]bool{}}
	r := newTestNode(b, net, "r", Config{ProbeInterval: -1})
	next, _ := node.NewIdentity()
	rec, err := next.NewRecord(map[string][]string{"mem": {"n"}}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if err := r.st.PutPeer(string(next.ID()), rec); err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.o.peerRecord(next.ID()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-each-time", func(b *testing.B) {
		for b.Loop() {
			raw, err := r.st.Peer(string(next.ID()))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := node.DecodeRecord(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
