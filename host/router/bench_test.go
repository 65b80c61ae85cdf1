package router

import (
	"fmt"
	"testing"

	"github.com/onemfive/onemfive/host/node"
)

// BenchmarkSelectPath3of1000 picks a 3-hop path ending at a fixed gateway
// from 1000 relays over two networks with 250 operators.
func BenchmarkSelectPath3of1000(b *testing.B) {
	dir := make([]Candidate, 1000)
	for i := range dir {
		nets := []string{"direct"}
		if i%3 == 0 {
			nets = append(nets, "tor")
		}
		dir[i] = Candidate{ID: node.ID(fmt.Sprintf("n%04d", i)), Networks: nets,
			Groups: []string{fmt.Sprintf("op:%d", i%250), fmt.Sprintf("ip4:10.%d.0.0/16", i%97)}, Weight: uint32(1 + i%5)}
	}
	req := PathRequest{Hops: 3, Networks: []string{"tor", "direct"}, SenderNetworks: []string{"direct", "tor"}, End: &dir[3]}
	src := rng(3)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SelectPath(src, dir, req); err != nil {
			b.Fatal(err)
		}
	}
}
