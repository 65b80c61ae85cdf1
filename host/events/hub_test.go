package events

import (
	"context"
	"testing"
)

func TestHubFanOutAndDrop(t *testing.T) {
	var h Hub[int]
	ctx, cancel := context.WithCancel(context.Background())
	a := h.Subscribe(ctx, 10)
	b := h.Subscribe(ctx, 1)
	for i := 0; i < 3; i++ {
		h.Publish(i)
	}
	for i := 0; i < 3; i++ {
		if v := <-a; v != i {
			t.Fatalf("a got %d want %d", v, i)
		}
	}
	if v := <-b; v != 0 {
		t.Fatalf("b got %d", v)
	}
	if _, ok := <-b; ok {
		t.Fatal("slow subscriber not cut off")
	}
	if h.Dropped() != 1 || h.Subscribers() != 1 {
		t.Fatalf("dropped %d subscribers %d, want 1 and 1", h.Dropped(), h.Subscribers())
	}
	cancel()
	if _, ok := <-a; ok {
		t.Fatal("channel not closed after cancel")
	}
}
