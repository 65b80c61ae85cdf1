package onion

import (
	"crypto/ecdh"
	"crypto/rand"
	"testing"
	"time"
)

func BenchmarkX25519(b *testing.B) {
	nodes := newNodes(b, 2)
	for b.Loop() {
		if _, err := nodes[0].priv.ECDH(nodes[1].hop.Key); err != nil {
			b.Fatal(err)
		}
	}
}

// pairedRatio interleaves op with a bare crypto/ecdh X25519 in the same run
// and reports both times and their ratio, so machine load cancels out.
func pairedRatio(b *testing.B, op func()) {
	b.Helper()
	x, _ := ecdh.X25519().GenerateKey(rand.Reader)
	y, _ := ecdh.X25519().GenerateKey(rand.Reader)
	var tOp, tX time.Duration
	for b.Loop() {
		t0 := time.Now()
		op()
		t1 := time.Now()
		if _, err := x.ECDH(y.PublicKey()); err != nil {
			b.Fatal(err)
		}
		tX += time.Since(t1)
		tOp += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tOp.Nanoseconds())/n/1e3, "us/op-only")
	b.ReportMetric(float64(tX.Nanoseconds())/n/1e3, "us/x25519")
	b.ReportMetric(float64(tOp)/float64(tX), "x-x25519")
}

func BenchmarkUnwrapRelay(b *testing.B) {
	nodes := newNodes(b, 3)
	pkt, _ := NewPacket(rand.Reader, pathOf(nodes), make([]byte, 1000))
	pairedRatio(b, func() {
		if _, err := Unwrap(nodes[0].priv, pkt); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkUnwrapFinal(b *testing.B) {
	nodes := newNodes(b, 1)
	pkt, _ := NewPacket(rand.Reader, pathOf(nodes), make([]byte, 1000))
	pairedRatio(b, func() {
		if _, err := Unwrap(nodes[0].priv, pkt); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkNewPacket5Hops(b *testing.B) {
	nodes := newNodes(b, 5)
	path := pathOf(nodes)
	payload := make([]byte, PayloadCapacity)
	pairedRatio(b, func() {
		if _, err := NewPacket(rand.Reader, path, payload); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkNewSURB5Hops(b *testing.B) {
	nodes := newNodes(b, 5)
	path := pathOf(nodes)
	for b.Loop() {
		if _, _, err := NewSURB(rand.Reader, path); err != nil {
			b.Fatal(err)
		}
	}
}
