package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

// announcingFake is a transport.Announcer that reports every announced
// record back as discovered, from two made-up addresses, during Announce.
type announcingFake struct {
	*fakeTransport
	mu        sync.Mutex
	announced [][]byte
	h         transport.Host
}

func (a *announcingFake) Start(ctx context.Context, h transport.Host) ([]string, error) {
	a.mu.Lock()
	a.h = h
	a.mu.Unlock()
	if d, ok := h.(transport.Discoverer); ok {
		// Reported during Start: must not be lost.
		if err := d.Discovered(ctx, "early:1", []byte("early")); err != nil {
			return nil, err
		}
	}
	return a.fakeTransport.Start(ctx, h)
}

func (a *announcingFake) Announce(ctx context.Context, record []byte) error {
	if string(record) == "refuse" {
		return errors.New("fake: announce: refused")
	}
	a.mu.Lock()
	a.announced = append(a.announced, append([]byte(nil), record...))
	h := a.h
	a.mu.Unlock()
	d, ok := h.(transport.Discoverer)
	if !ok {
		return errors.New("fake: host is not a discoverer")
	}
	for i := range 2 {
		if err := d.Discovered(ctx, fmt.Sprintf("peer:%d", i), record); err != nil {
			return err
		}
	}
	return nil
}

// discHost is a recHost that is also a transport.Discoverer.
type discHost struct {
	*recHost
	got chan [2]string
}

func (h *discHost) Discovered(_ context.Context, addr string, record []byte) error {
	h.got <- [2]string{addr, string(record)}
	return nil
}

func TestAnnounceAndDiscover(t *testing.T) {
	f := &announcingFake{fakeTransport: newFake()}
	c, _ := pair(t, f, nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	h := &discHost{recHost: newRecHost(), got: make(chan [2]string, 16)}
	if _, err := tc.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	if got := <-h.got; got != [2]string{"early:1", "early"} {
		t.Fatalf("first discovery %v", got)
	}
	rec := []byte("signed record bytes")
	if err := tc.Announce(ctx, rec); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	if len(f.announced) != 1 || !bytes.Equal(f.announced[0], rec) {
		t.Fatalf("announced %q", f.announced)
	}
	f.mu.Unlock()
	for i := range 2 {
		got := <-h.got
		if want := [2]string{fmt.Sprintf("peer:%d", i), string(rec)}; got != want {
			t.Fatalf("discovery %d: %v, want %v (in order)", i, got, want)
		}
	}
	err := tc.Announce(ctx, []byte("refuse"))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("refused")) || errors.Is(err, ErrUnsupported) {
		t.Fatalf("refused announce: %v", err)
	}
	if err := tc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if tc.DroppedDiscoveries() != 0 {
		t.Fatalf("dropped %d", tc.DroppedDiscoveries())
	}
}

func TestAnnounceUnsupported(t *testing.T) {
	c, _ := pair(t, newFake(), nil)
	ctx := ctxT(t)
	tc := dispenseTransport(t, c)
	// A discovering host works with a transport that never discovers.
	h := &discHost{recHost: newRecHost(), got: make(chan [2]string, 1)}
	if _, err := tc.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := tc.Announce(ctx, []byte("x")); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("announce on a non-announcer: %v", err)
	}
	if err := tc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoveryQueueDropsOldest(t *testing.T) {
	q := newDiscoveryQueue()
	for i := range discoveryQueueLen + 3 {
		q.push(newDisc(i))
	}
	ds, dropped, done := q.take()
	if dropped != 3 || done || len(ds) != discoveryQueueLen || ds[0].GetAddr() != "a3" {
		t.Fatalf("dropped %d done %v len %d first %q", dropped, done, len(ds), ds[0].GetAddr())
	}
	q.close()
	if q.push(newDisc(0)) {
		t.Fatal("push after close accepted")
	}
	if _, _, done := q.take(); !done {
		t.Fatal("closed empty queue not done")
	}
}

func newDisc(i int) *pb.Discovery { return &pb.Discovery{Addr: fmt.Sprintf("a%d", i)} }
