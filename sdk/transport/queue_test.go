package transport

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCheckBatch(t *testing.T) {
	bad := errors.New("bad address")
	check := func(a string) error {
		if a == "x" {
			return bad
		}
		return nil
	}
	if err := CheckBatch([]Packet{{Addr: "a", Data: make([]byte, MaxPacketSize)}}, check); err != nil {
		t.Fatalf("full-size packet refused: %v", err)
	}
	err := CheckBatch([]Packet{{Addr: "a"}, {Addr: "a", Data: make([]byte, MaxPacketSize+1)}}, check)
	if err == nil || !strings.Contains(err.Error(), "packet 1") {
		t.Fatalf("oversized packet: %v", err)
	}
	if err := CheckBatch([]Packet{{Addr: "a"}, {Addr: "x"}}, check); !errors.Is(err, bad) || !strings.Contains(err.Error(), "packet 1") {
		t.Fatalf("bad address: %v", err)
	}
	if err := CheckBatch([]Packet{{Addr: "x"}}, nil); err != nil {
		t.Fatalf("nil check: %v", err)
	}
}

func TestEnqueue(t *testing.T) {
	stop := errors.New("stopped")
	q := make(chan []byte, 1)
	stopped := make(chan struct{})
	ctx := context.Background()
	if ok, err := Enqueue(ctx, stopped, stop, q, false, []byte("a")); !ok || err != nil {
		t.Fatalf("room while dialling: %v %v", ok, err)
	}
	if ok, err := Enqueue(ctx, stopped, stop, q, false, []byte("b")); ok || err != nil {
		t.Fatalf("full while dialling must drop: %v %v", ok, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if ok, err := Enqueue(cctx, stopped, stop, q, true, []byte("c")); ok || !errors.Is(err, context.Canceled) {
		t.Fatalf("full while up, ctx done: %v %v", ok, err)
	}
	close(stopped)
	if ok, err := Enqueue(ctx, stopped, stop, q, true, []byte("d")); ok || !errors.Is(err, stop) {
		t.Fatalf("full while up, stopped: %v %v", ok, err)
	}
	<-q
	if ok, err := Enqueue(ctx, make(chan struct{}), stop, q, true, []byte("e")); !ok || err != nil {
		t.Fatalf("room while up: %v %v", ok, err)
	}
}
