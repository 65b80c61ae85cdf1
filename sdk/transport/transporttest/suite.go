package transporttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Timeout is the default bound on every wait in the suite: a packet that
// has not arrived, or a call that has not returned, by then fails the test.
// Transports over slow networks (onion services, garlic tunnels) set their
// own with RunWith.
const Timeout = 10 * time.Second

// Options tune the suite for a transport.
type Options struct {
	// Timeout replaces the package's Timeout for every wait. Zero means
	// Timeout.
	Timeout time.Duration
}

// Factory makes a fresh, configured transport that can reach every other
// transport the same factory made. The suite starts and stops it.
type Factory func(t *testing.T) transport.Transport

// Run runs the conformance suite against the transports newTransport makes.
func Run(t *testing.T, newTransport Factory) {
	t.Helper()
	RunWith(t, Options{}, newTransport)
}

// RunWith is Run with options.
func RunWith(t *testing.T, opt Options, newTransport Factory) {
	t.Helper()
	if opt.Timeout <= 0 {
		opt.Timeout = Timeout
	}
	s := suite{newTransport: newTransport, timeout: opt.Timeout}
	t.Run("Info", s.testInfo)
	t.Run("StartReadyStop", s.testStartReadyStop)
	t.Run("Delivery", s.testDelivery)
	t.Run("Batch", s.testBatch)
	t.Run("ConcurrentSend", s.testConcurrentSend)
	t.Run("Oversize", s.testOversize)
	t.Run("MalformedAddress", s.testMalformedAddress)
	t.Run("SendAfterStop", s.testSendAfterStop)
	t.Run("StopIdempotent", s.testStopIdempotent)
	t.Run("Unreachable", s.testUnreachable)
	t.Run("SlowDeliver", s.testSlowDeliver)
	t.Run("StopWhileDeliverBlocked", s.testStopWhileDeliverBlocked)
}

type suite struct {
	newTransport Factory
	timeout      time.Duration
}

// node is a started transport with its recorder.
type node struct {
	tr    transport.Transport
	rec   *Recorder
	addrs []string
	mark  int // packets recorded before the test proper (warm-up)

	timeout time.Duration // the suite's bound on every wait
}

func (n *node) addr() string { return n.addrs[0] }

// start makes and starts a transport; Cleanup stops it.
func (s suite) start(t *testing.T) *node {
	t.Helper()
	n := &node{tr: s.newTransport(t), rec: new(Recorder), timeout: s.timeout}
	err := within(t, s.timeout, "Start", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		var err error
		n.addrs, err = n.tr.Start(ctx, n.rec)
		return err
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if len(n.addrs) == 0 || n.addrs[0] == "" {
		t.Fatalf("Start returned no usable address: %q", n.addrs)
	}
	t.Cleanup(func() { n.stop(t) })
	return n
}

func (n *node) stop(t *testing.T) {
	t.Helper()
	err := within(t, n.timeout, "Stop", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
		defer cancel()
		return n.tr.Stop(ctx)
	})
	if err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// warm exchanges one packet each way between a and each of others and
// waits for them, so bulk tests run over established links: a
// connection-oriented transport may drop packets beyond its queue while it
// connects. The warm-up packets are excluded from later expectations.
func warm(t *testing.T, a *node, others ...*node) {
	t.Helper()
	for i, b := range others {
		ab, ba := payload(100, uint64(i), 32), payload(101, uint64(i), 32)
		mb, ma := b.rec.Len(), a.rec.Len()
		a.send(t, transport.Packet{Addr: b.addr(), Data: ab})
		expectAfter(t, b.rec, mb, [][]byte{ab}, b.timeout)
		b.send(t, transport.Packet{Addr: a.addr(), Data: ba})
		expectAfter(t, a.rec, ma, [][]byte{ba}, a.timeout)
	}
	for _, n := range append(others, a) {
		n.mark = n.rec.Len()
	}
}

// send sends pkts from n and fails t on error.
func (n *node) send(t *testing.T, pkts ...transport.Packet) {
	t.Helper()
	if err := n.trySend(t, pkts...); err != nil {
		t.Fatalf("Send %d packets: %v", len(pkts), err)
	}
}

// trySend sends pkts from n, failing t only if Send does not return.
func (n *node) trySend(t *testing.T, pkts ...transport.Packet) error {
	t.Helper()
	return within(t, n.timeout, "Send", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
		defer cancel()
		return n.tr.Send(ctx, pkts)
	})
}

// within runs f and fails t if f has not returned after d plus a margin
// (f's own ctx normally ends it first).
func within(t testing.TB, d time.Duration, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d + d/2):
		t.Fatalf("%s did not return within %v: wedged", what, d+d/2)
		return nil
	}
}

// payload is size pseudo-random bytes determined by (tag, seq).
func payload(tag, seq uint64, size int) []byte {
	r := rand.New(rand.NewPCG(tag, seq))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// expect waits until rec holds every payload in want (in any order) and
// fails t on a missing or corrupted packet. It returns the packets that
// matched, in arrival order.
func expect(t *testing.T, n *node, want [][]byte) []transport.Packet {
	t.Helper()
	return expectAfter(t, n.rec, n.mark, want, n.timeout)
}

// expectAfter is expect ignoring the first skip recorded packets.
func expectAfter(t *testing.T, rec *Recorder, skip int, want [][]byte, d time.Duration) []transport.Packet {
	t.Helper()
	missing := make(map[string]int, len(want))
	for _, w := range want {
		missing[string(w)]++
	}
	remaining := len(want)
	var matched []transport.Packet
	var unknown []int // sizes of packets that match nothing
	seen := skip
	ok := rec.Wait(d, func(pkts []transport.Packet, _ []transport.Event) bool {
		for _, p := range pkts[seen:] {
			if missing[string(p.Data)] > 0 {
				missing[string(p.Data)]--
				remaining--
				matched = append(matched, transport.Packet{Addr: p.Addr, Data: slices.Clone(p.Data)})
			} else {
				unknown = append(unknown, len(p.Data))
			}
		}
		seen = len(pkts)
		return remaining == 0
	})
	if len(unknown) > 0 {
		t.Errorf("received %d unexpected or corrupted or duplicated packets (sizes %v)", len(unknown), unknown)
	}
	if !ok {
		var sizes []int
		for k, n := range missing {
			for range n {
				sizes = append(sizes, len(k))
			}
		}
		slices.Sort(sizes)
		t.Fatalf("%d of %d packets missing after %v (sizes %v)", remaining, len(want), d, sizes)
	}
	return matched
}

var semver = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func (s suite) testInfo(t *testing.T) {
	tr := s.newTransport(t)
	t.Cleanup(func() { _ = tr.Stop(context.Background()) })
	info, err := tr.Info(context.Background())
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Name == "" {
		t.Error("Info.Name is empty")
	}
	if info.Kind != base.KindTransport {
		t.Errorf("Info.Kind = %q, want %q", info.Kind, base.KindTransport)
	}
	if !slices.Contains(info.APIVersions, 1) {
		t.Errorf("Info.APIVersions = %v, want it to include 1", info.APIVersions)
	}
	if !semver.MatchString(info.Version) {
		t.Errorf("Info.Version = %q, not semver", info.Version)
	}
}

func (s suite) testStartReadyStop(t *testing.T) {
	n := s.start(t)
	for _, a := range n.addrs {
		if a == "" {
			t.Errorf("Start returned an empty address among %q", n.addrs)
		}
	}
	n.rec.WaitEvent(t, s.timeout, func(ev transport.Event) bool { return ev.State == transport.StateReady })
	n.stop(t)
	if !slices.ContainsFunc(n.rec.Events(), func(ev transport.Event) bool { return ev.State == transport.StateStopped }) {
		t.Errorf("no stopped event reported before Stop returned; events: %+v", n.rec.Events())
	}
}

// sizes covers 1 byte to MaxPacketSize, including the edges around common
// MTUs and powers of two.
var sizes = []int{1, 2, 3, 7, 8, 63, 64, 65, 511, 1200, 1280, 1500, 4095, 4096, 9000,
	16384, 32768, 65535, transport.MaxPacketSize - 1, transport.MaxPacketSize}

func (s suite) testDelivery(t *testing.T) {
	a, b := s.start(t), s.start(t)
	send := func(from *node, to string, tag uint64) [][]byte {
		var want [][]byte
		for i, size := range sizes {
			p := payload(tag, uint64(i), size)
			want = append(want, p)
			from.send(t, transport.Packet{Addr: to, Data: p})
		}
		return want
	}
	var fromA []transport.Packet
	t.Run("AtoB", func(t *testing.T) {
		fromA = expect(t, b, send(a, b.addr(), 1))
		for _, p := range fromA {
			if p.Addr == "" {
				t.Fatalf("received packet has an empty source Addr")
			}
		}
	})
	t.Run("BtoA", func(t *testing.T) {
		expect(t, a, send(b, a.addr(), 2))
	})
	t.Run("ReplyToSource", func(t *testing.T) {
		if len(fromA) == 0 {
			t.Skip("AtoB failed")
		}
		// Reply to the source address of every received packet: whatever
		// the transport labels packets with must be sendable.
		mark := a.rec.Len()
		var want [][]byte
		for i, p := range fromA {
			r := payload(3, uint64(i), len(p.Data))
			want = append(want, r)
			b.send(t, transport.Packet{Addr: p.Addr, Data: r})
		}
		expectAfter(t, a.rec, mark, want, s.timeout)
	})
}

func (s suite) testBatch(t *testing.T) {
	a, b := s.start(t), s.start(t)
	warm(t, b, a)
	const total, per = 512, 64
	var want [][]byte
	for i := 0; i < total; i += per {
		batch := make([]transport.Packet, per)
		for j := range batch {
			d := payload(4, uint64(i+j), 1000)
			want = append(want, d)
			batch[j] = transport.Packet{Addr: b.addr(), Data: d}
		}
		a.send(t, batch...)
	}
	expect(t, b, want)
}

func (s suite) testConcurrentSend(t *testing.T) {
	b := s.start(t)
	senders := []*node{s.start(t), s.start(t)}
	warm(t, b, senders...)
	const goroutines, each = 4, 50
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		want [][]byte
		errs []error
	)
	for si, sn := range senders {
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					d := payload(uint64(5+si), uint64(g*each+i), 200+i*10)
					mu.Lock()
					want = append(want, d)
					mu.Unlock()
					ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
					err := sn.tr.Send(ctx, []transport.Packet{{Addr: b.addr(), Data: d}})
					cancel()
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
				}
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent Send failed: %v", errs)
	}
	expect(t, b, want)
}

func (s suite) testOversize(t *testing.T) {
	a, b := s.start(t), s.start(t)
	big := make([]byte, transport.MaxPacketSize+1)
	if err := a.trySend(t, transport.Packet{Addr: b.addr(), Data: big}); err == nil {
		t.Errorf("Send of %d bytes succeeded, want an error", len(big))
	}
	ok := transport.Packet{Addr: b.addr(), Data: []byte("fits")}
	if err := a.trySend(t, ok, transport.Packet{Addr: b.addr(), Data: big}); err == nil {
		t.Errorf("Send of a batch holding an oversized packet succeeded, want an error")
	}
	// The transport still works afterwards, and nothing from the refused
	// batches arrived ahead of this packet (expect flags strays).
	d := payload(7, 0, 100)
	a.send(t, transport.Packet{Addr: b.addr(), Data: d})
	expect(t, b, [][]byte{d})
}

func (s suite) testMalformedAddress(t *testing.T) {
	a := s.start(t)
	if err := a.trySend(t, transport.Packet{Addr: "", Data: []byte("x")}); err == nil {
		t.Errorf("Send to the empty address succeeded, want an error")
	}
}

func (s suite) testSendAfterStop(t *testing.T) {
	a, b := s.start(t), s.start(t)
	a.send(t, transport.Packet{Addr: b.addr(), Data: []byte("before")})
	expect(t, b, [][]byte{[]byte("before")})
	a.stop(t)
	if err := a.trySend(t, transport.Packet{Addr: b.addr(), Data: []byte("after")}); err == nil {
		t.Errorf("Send after Stop succeeded, want an error")
	}
}

func (s suite) testStopIdempotent(t *testing.T) {
	a := s.start(t)
	for i := range 3 {
		err := within(t, s.timeout, "Stop", func() error { return a.tr.Stop(context.Background()) })
		if err != nil {
			t.Errorf("Stop #%d: %v", i+1, err)
		}
	}
}

func (s suite) testUnreachable(t *testing.T) {
	a, b := s.start(t), s.start(t)
	gone := s.start(t)
	dead := gone.addr()
	gone.stop(t)
	warm(t, b, a)

	var want [][]byte
	for i := range 20 {
		// Errors are allowed (the peer is gone); wedging is not. trySend
		// fails the test if Send does not return.
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout/5)
		_ = within(t, s.timeout, "Send to an unreachable address", func() error {
			return a.tr.Send(ctx, []transport.Packet{{Addr: dead, Data: payload(8, uint64(i), 500)}})
		})
		cancel()
		// A batch mixing the dead peer and a good one must still reach
		// the good one.
		d := payload(9, uint64(i), 500)
		want = append(want, d)
		ctx, cancel = context.WithTimeout(context.Background(), s.timeout)
		err := within(t, s.timeout, "Send", func() error {
			return a.tr.Send(ctx, []transport.Packet{{Addr: dead, Data: []byte("lost")}, {Addr: b.addr(), Data: d}})
		})
		cancel()
		if err != nil {
			t.Fatalf("Send of a batch with a reachable peer failed: %v", err)
		}
	}
	expect(t, b, want)
}

func (s suite) testSlowDeliver(t *testing.T) {
	a, b := s.start(t), s.start(t)
	warm(t, b, a)
	b.rec.Hold()
	const total, per, size = 2048, 16, 4096
	var want [][]byte
	var batches [][]transport.Packet
	for i := 0; i < total; i += per {
		batch := make([]transport.Packet, per)
		for j := range batch {
			d := payload(10, uint64(i+j), size)
			want = append(want, d)
			batch[j] = transport.Packet{Addr: b.addr(), Data: d}
		}
		batches = append(batches, batch)
	}
	sent := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*s.timeout)
		defer cancel()
		for _, batch := range batches {
			if err := a.tr.Send(ctx, batch); err != nil {
				sent <- fmt.Errorf("send: %w", err)
				return
			}
		}
		sent <- nil
	}()
	b.rec.WaitBlocked(t, s.timeout)
	// Let the sender run into whatever buffers the transport has while
	// Deliver stays blocked. This only widens the window; nothing is timed.
	time.Sleep(200 * time.Millisecond)
	b.rec.Release()
	expect(t, b, want)
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(s.timeout):
		t.Fatalf("sender wedged after every packet was delivered")
	}
}

func (s suite) testStopWhileDeliverBlocked(t *testing.T) {
	a, b := s.start(t), s.start(t)
	b.rec.Hold()
	t.Cleanup(b.rec.Release)
	a.send(t, transport.Packet{Addr: b.addr(), Data: []byte("held")})
	b.rec.WaitBlocked(t, s.timeout)
	// Stop must cancel the ctx Deliver was given and return.
	b.stop(t)
	// The sender keeps working.
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	_ = within(t, s.timeout, "Send to a stopped peer", func() error {
		return a.tr.Send(ctx, []transport.Packet{{Addr: b.addr(), Data: []byte("late")}})
	})
}
