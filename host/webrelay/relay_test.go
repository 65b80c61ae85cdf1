package webrelay

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// pair is two relays joined by an in-process network that delivers each
// frame on its own goroutine, so frames overtake each other, and delivers
// some twice (as the courier may after a lost acknowledgement).
type pair struct {
	mu    sync.Mutex
	nodes map[string]*Relay
	rng   *mrand.Rand
	wg    sync.WaitGroup
	dups  int
	sent  int
}

func (p *pair) send(from string) func(ctx context.Context, peer string, b []byte, route any) error {
	return func(ctx context.Context, peer string, b []byte, route any) error {
		p.mu.Lock()
		to := p.nodes[peer]
		copies := 1
		if p.rng.IntN(10) == 0 {
			copies = 2
			p.dups++
		}
		delay := time.Duration(p.rng.IntN(2000)) * time.Microsecond
		p.sent++
		p.mu.Unlock()
		if to == nil {
			return fmt.Errorf("no node %s", peer)
		}
		b = bytes.Clone(b)
		for range copies {
			p.wg.Go(func() {
				time.Sleep(delay)
				_ = to.Handle(context.Background(), from, b)
			})
		}
		return nil
	}
}

// dialLoopback is a relay's Dial: only "direct" works, to loopback.
func dialLoopback(ctx context.Context, _ string, networks []string, addr string, via []Hop) (net.Conn, string, error) {
	if len(via) > 0 {
		return nil, "", errors.New("this test relay forwards to no one")
	}
	for _, n := range networks {
		if n == "direct" {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			return c, n, err
		}
	}
	return nil, "", fmt.Errorf("none of %v is here", networks)
}

func newPair(t *testing.T, serve bool) (*pair, *Relay, *Relay) {
	t.Helper()
	p := &pair{nodes: map[string]*Relay{}, rng: mrand.New(mrand.NewPCG(7, 9))}
	a, err := New(Config{Send: p.send("a"), OpenTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{Send: p.send("b"), Dial: dialLoopback, Serve: serve, OpenTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p.nodes["a"], p.nodes["b"] = a, b
	t.Cleanup(func() { a.Close(); b.Close(); p.wg.Wait() })
	return p, a, b
}

// echoServer echoes each connection until its client half-closes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestRelayedStream: 3 MB each way through the relay, with frames
// reordered and duplicated, arrive whole and in order; both ends' streams
// are gone afterwards.
func TestRelayedStream(t *testing.T) {
	for name, opt := range map[string]Options{"default": DefaultOptions, "onion": OnionOptions} {
		t.Run(name, func(t *testing.T) { testRelayedStream(t, opt) })
	}
}

func testRelayedStream(t *testing.T, opt Options) {
	p, a, b := newPair(t, true)
	addr := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, network, err := a.Dial(ctx, "b", []string{"tor", "direct"}, addr, opt, "route-x")
	if err != nil {
		t.Fatal(err)
	}
	if network != "direct" {
		t.Errorf("relay used %q, want direct", network)
	}
	want := make([]byte, 3<<20)
	rand.Read(want)
	go func() {
		for off := 0; off < len(want); {
			n := min(len(want)-off, 50_000)
			if _, err := s.Write(want[off : off+n]); err != nil {
				t.Errorf("write: %v", err)
				return
			}
			off += n
		}
		s.CloseWrite()
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("read after %d bytes: %v", len(got), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("echoed %d bytes, want %d (equal prefix %d)", len(got), len(want), commonPrefix(got, want))
	}
	p.mu.Lock()
	dups := p.dups
	p.mu.Unlock()
	if dups == 0 {
		t.Error("the test network duplicated no frame; the test proves less than it claims")
	}
	waitFor(t, func() bool { return a.Streams() == 0 && b.Streams() == 0 }, "streams to end")
}

// TestChain: a opens a stream through b naming one further peer; b's Dial
// forwards it (Forward, after holding the open) to c, which fetches. The
// bytes cross both hops whole, the network names the chain, and a hop
// naming a network b cannot reach fails with b's reason.
func TestChain(t *testing.T) {
	p := &pair{nodes: map[string]*Relay{}, rng: mrand.New(mrand.NewPCG(3, 5))}
	var b *Relay
	var held time.Duration
	forward := func(ctx context.Context, from string, networks []string, addr string, via []Hop) (net.Conn, string, error) {
		if from != "a" {
			return nil, "", fmt.Errorf("open from %q, want a", from)
		}
		if len(via) == 0 {
			return nil, "", errors.New("b only forwards")
		}
		if via[0].Network != "mem" {
			return nil, "", fmt.Errorf("b is not on %s", via[0].Network)
		}
		start := time.Now()
		c, n, err := b.Forward(ctx, "c", networks, addr, via, "route-bc")
		held = time.Since(start)
		return c, n, err
	}
	a, err := New(Config{Send: p.send("a"), OpenTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err = New(Config{Send: p.send("b"), Dial: forward, Serve: true, OpenTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Send: p.send("c"), Dial: dialLoopback, Serve: true, OpenTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p.nodes["a"], p.nodes["b"], p.nodes["c"] = a, b, c
	t.Cleanup(func() { a.Close(); b.Close(); c.Close(); p.wg.Wait() })

	addr := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opt := DefaultOptions
	opt.Via = []Hop{{Network: "mem", PeerHas: []string{"direct"}, DelayMin: 200 * time.Millisecond, DelayMax: 300 * time.Millisecond}}
	s, network, err := a.Dial(ctx, "b", []string{"direct"}, addr, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if network != "mem via c (direct)" {
		t.Errorf("network %q, want the chain named", network)
	}
	if held < 200*time.Millisecond {
		t.Errorf("b forwarded after %v, before the hop's delay", held)
	}
	want := make([]byte, 1<<20)
	rand.Read(want)
	go func() {
		s.Write(want)
		s.CloseWrite()
	}()
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echoed %d of %d bytes through the chain (equal prefix %d): %v", len(got), len(want), commonPrefix(got, want), err)
	}
	waitFor(t, func() bool { return a.Streams() == 0 && b.Streams() == 0 && c.Streams() == 0 }, "streams to end")

	opt.Via[0].Network = "i2p"
	if _, _, err := a.Dial(ctx, "b", []string{"direct"}, addr, opt, nil); err == nil || !strings.Contains(err.Error(), "b is not on i2p") {
		t.Fatalf("a hop over a network b lacks: %v", err)
	}
}

func TestRelayRefuses(t *testing.T) {
	_, a, _ := newPair(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := a.Dial(ctx, "b", []string{"direct"}, "127.0.0.1:1", DefaultOptions, nil)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "does not relay web requests") {
		t.Fatalf("Dial through a node that does not serve: %v", err)
	}
}

func TestRelayCannotReach(t *testing.T) {
	_, a, _ := newPair(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := a.Dial(ctx, "b", []string{"tor"}, "example.onion:80", DefaultOptions, nil)
	if err == nil || !strings.Contains(err.Error(), "relay could not reach example.onion:80") || !strings.Contains(err.Error(), "none of [tor]") {
		t.Fatalf("Dial over a network the relay lacks: %v", err)
	}
	waitFor(t, func() bool { return a.Streams() == 0 }, "the failed stream to go")
}

func TestReadDeadline(t *testing.T) {
	_, a, _ := newPair(t, true)
	addr := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, _, err := a.Dial(ctx, "b", []string{"direct"}, addr, DefaultOptions, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func waitFor(t *testing.T, ok func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func FuzzDecodeFrame(f *testing.F) {
	for _, fr := range []frame{
		{typ: typeOpen, networks: []string{"tor", "i2p"}, target: "example.onion:443", chunk: 4096, window: 8},
		{typ: typeAccepted, text: "tor"},
		{typ: typeData, seq: 3, data: []byte("bytes")},
		{typ: typeFin, seq: 4, text: "gone"},
		{typ: typeAck, seq: 8},
		{typ: typeOpenVia, networks: []string{"tor"}, target: "example.com:443", chunk: 4096, window: 8,
			via: []Hop{{Network: "lan"}, {Network: "i2p", PeerHas: []string{"tor"}, DelayMin: 30 * time.Second, DelayMax: 90 * time.Second}}},
	} {
		b, err := fr.encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := fr.encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("frame re-encodes to %x (%v), want %x", again, err, b)
		}
	})
}
