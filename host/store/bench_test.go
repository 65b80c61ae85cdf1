package store

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Every operation below commits one synced batch, so the figures are
// dominated by fsync latency of the disk under b.TempDir().

func BenchmarkReceive(b *testing.B) {
	s := openT(b, b.TempDir())
	data := make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.Receive("msg-"+strconv.Itoa(i), "peer", data, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiveParallel has 8×GOMAXPROCS goroutines receiving at once; their
// receipts share fsyncs through group commit.
func BenchmarkReceiveParallel(b *testing.B) {
	s := openT(b, b.TempDir())
	data := make([]byte, 1024)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Receive("msg-"+strconv.Itoa(int(n.Add(1))), "peer", data, t0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkReceiveDuplicate(b *testing.B) {
	s := openT(b, b.TempDir())
	if _, _, err := s.Receive("msg", "peer", nil, t0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, dup, err := s.Receive("msg", "peer", nil, t0); err != nil || !dup {
			b.Fatal(dup, err)
		}
	}
}

func BenchmarkEnqueueAck(b *testing.B) {
	s := openT(b, b.TempDir())
	data := make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		id := "out-" + strconv.Itoa(i)
		if err := s.Enqueue(Outgoing{ID: id, Dest: "n", Data: data, Created: t0, NextAttempt: t0, Expires: t0.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
		if found, err := s.Ack(id); err != nil || !found {
			b.Fatal(found, err)
		}
	}
}

func BenchmarkDue(b *testing.B) {
	s := openT(b, b.TempDir())
	for i := range 10000 {
		// 100 due now, the rest in the future: Due must not walk them.
		next := t0.Add(time.Hour)
		if i < 100 {
			next = t0
		}
		if err := s.Enqueue(Outgoing{ID: "out-" + strconv.Itoa(i), Dest: "n", NextAttempt: next}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		due, err := s.Due(t0, 0)
		if err != nil || len(due) != 100 {
			b.Fatal(len(due), err)
		}
	}
}
