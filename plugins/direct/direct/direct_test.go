package direct

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// logBuffer is a goroutine-safe log sink tests can search.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newTestTransport returns a configured transport logging to log (or
// discarding when log is nil).
func newTestTransport(t *testing.T, log io.Writer, body string) *Transport {
	t.Helper()
	var l hclog.Logger = hclog.NewNullLogger()
	if log != nil {
		l = hclog.New(&hclog.LoggerOptions{Name: "direct", Output: log, Level: hclog.Debug})
	}
	tr := New(WithLogger(l))
	if err := tr.Configure(context.Background(), base.Config{Filename: "test.hcl", Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	return tr
}

type node struct {
	tr   *Transport
	rec  *transporttest.Recorder
	addr string
	log  *logBuffer
}

// startNode starts a direct transport on 127.0.0.1 with the given extra
// config; Cleanup stops it.
func startNode(t *testing.T, body string) *node {
	t.Helper()
	n := &node{rec: new(transporttest.Recorder), log: new(logBuffer)}
	n.tr = newTestTransport(t, n.log, body)
	addrs, err := n.tr.Start(context.Background(), n.rec)
	if err != nil {
		t.Fatal(err)
	}
	n.addr = addrs[0]
	t.Cleanup(func() { n.tr.Stop(context.Background()) })
	return n
}

func (n *node) send(t *testing.T, to string, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), transporttest.Timeout)
	defer cancel()
	if err := n.tr.Send(ctx, []transport.Packet{{Addr: to, Data: []byte(data)}}); err != nil {
		t.Fatal(err)
	}
}

// waitData waits until rec holds a packet with data and returns it.
func waitData(t *testing.T, rec *transporttest.Recorder, data string) transport.Packet {
	t.Helper()
	var got transport.Packet
	ok := rec.Wait(transporttest.Timeout, func(pkts []transport.Packet, _ []transport.Event) bool {
		for _, p := range pkts {
			if string(p.Data) == data {
				got = p
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("packet %q not received within %v", data, transporttest.Timeout)
	}
	return got
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transport.Transport {
		return newTestTransport(t, nil, `listen = "127.0.0.1:0"`)
	})
}

func TestConformanceSmallQueue(t *testing.T) {
	// A queue smaller than the suite's batches forces Send onto its
	// backpressure path. (It still holds the suite's 20 cold-start
	// packets: while dialing, a full queue drops.)
	transporttest.Run(t, func(t *testing.T) transport.Transport {
		return newTestTransport(t, nil, `max_queue = 32`)
	})
}

// waitLinkDowns waits until rec has seen n link_down events.
func waitLinkDowns(t *testing.T, rec *transporttest.Recorder, n int) {
	t.Helper()
	ok := rec.Wait(transporttest.Timeout, func(_ []transport.Packet, evs []transport.Event) bool {
		k := 0
		for _, ev := range evs {
			if ev.Phase == "link_down" {
				k++
			}
		}
		return k >= n
	})
	if !ok {
		t.Fatalf("fewer than %d link_down events within %v: %+v", n, transporttest.Timeout, rec.Events())
	}
}

func TestReconnectAfterPeerRestart(t *testing.T) {
	a := startNode(t, "")
	b := startNode(t, "")
	a.send(t, b.addr, "one")
	waitData(t, b.rec, "one")

	restart := func() *node {
		t.Helper()
		if err := b.tr.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		return startNode(t, fmt.Sprintf("listen = %q", b.addr))
	}

	// The peer goes away cleanly: A sees the link drop, and the next Send
	// dials the restarted peer at once.
	b = restart()
	waitLinkDowns(t, a.rec, 1)
	a.send(t, b.addr, "two")
	if got := waitData(t, b.rec, "two"); got.Addr != a.addr {
		t.Fatalf("packet labelled %q, want %q", got.Addr, a.addr)
	}

	// The peer is down while A sends: dials fail and back off; once the
	// peer is back, a later Send gets through.
	if err := b.tr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitLinkDowns(t, a.rec, 2)
	a.send(t, b.addr, "lost")
	a.rec.WaitEvent(t, transporttest.Timeout, func(ev transport.Event) bool { return ev.Phase == "dial_failed" })
	if a.tr.Stats().Dropped == 0 {
		t.Fatal("a failed dial dropped nothing")
	}
	b = startNode(t, fmt.Sprintf("listen = %q", b.addr))
	// Resend until the backoff lets a dial through; polling only paces
	// the retries, nothing is timed.
	deadline := time.Now().Add(transporttest.Timeout)
	for b.rec.Len() == 0 && time.Now().Before(deadline) {
		a.send(t, b.addr, "three")
		time.Sleep(50 * time.Millisecond)
	}
	waitData(t, b.rec, "three")
}

func TestMalformedFrameClosesOnlyThatConnection(t *testing.T) {
	a := startNode(t, "")
	nc, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(appendHello(nil, "127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	// Read A's hello, then send a frame of unknown type.
	fr := frameReader{r: bufio.NewReader(nc)}
	if typ, _, err := fr.next(); err != nil || typ != frameHello {
		t.Fatalf("first frame from transport: %v, %v", typ, err)
	}
	if _, err := nc.Write(frameBytes(0x7f, []byte("junk"))); err != nil {
		t.Fatal(err)
	}
	// The transport closes the connection: reads end (pings may come
	// first).
	nc.SetReadDeadline(time.Now().Add(transporttest.Timeout))
	for {
		if _, _, err = fr.next(); err != nil {
			break
		}
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection not closed after a malformed frame")
	}
	logs := a.log.String()
	if !strings.Contains(logs, "malformed frame") || !strings.Contains(logs, "unknown frame type 127") ||
		!strings.Contains(logs, "127.0.0.1:1") {
		t.Fatalf("log does not name the peer and the problem:\n%s", logs)
	}
	// Other peers are unaffected.
	b := startNode(t, "")
	b.send(t, a.addr, "fine")
	waitData(t, a.rec, "fine")
}

func TestMalformedHelloRejected(t *testing.T) {
	a := startNode(t, "")
	nc, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(appendData(nil, []transport.Packet{{Data: []byte("early")}})); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(transporttest.Timeout))
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Fatalf("connection not closed after data before hello: %v", err)
	}
	if a.rec.Len() != 0 {
		t.Fatal("data before hello was delivered")
	}
	if logs := a.log.String(); !strings.Contains(logs, "first frame is data, want hello") {
		t.Fatalf("log does not say what was wrong:\n%s", logs)
	}
}

func TestSimultaneousDialConverges(t *testing.T) {
	a, b := startNode(t, ""), startNode(t, "")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { a.send(t, b.addr, fmt.Sprintf("a%d", i)) })
		wg.Go(func() { b.send(t, a.addr, fmt.Sprintf("b%d", i)) })
	}
	wg.Wait()
	for i := range 20 {
		waitData(t, b.rec, fmt.Sprintf("a%d", i))
		waitData(t, a.rec, fmt.Sprintf("b%d", i))
	}
	if a.tr.Stats().Links != 1 || b.tr.Stats().Links != 1 {
		t.Fatalf("links = %d, %d; want 1 peer each", a.tr.Stats().Links, b.tr.Stats().Links)
	}
	// Both sides pick the same connection for sending.
	pick := func(n *node, key string) (local, remote string) {
		n.tr.mu.Lock()
		defer n.tr.mu.Unlock()
		c := n.tr.peers[key].conn
		return c.nc.LocalAddr().String(), c.nc.RemoteAddr().String()
	}
	al, ar := pick(a, b.addr)
	bl, br := pick(b, a.addr)
	if al != br || ar != bl {
		t.Fatalf("a sends on %s->%s, b on %s->%s: not the same connection", al, ar, bl, br)
	}
}

func TestQueueFullWhileDialingDropsAndReports(t *testing.T) {
	// A listener that accepts but never says hello keeps A dialing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	a := startNode(t, `
max_queue    = 2
dial_timeout = "200ms"
`)
	pkts := make([]transport.Packet, 10)
	for i := range pkts {
		pkts[i] = transport.Packet{Addr: ln.Addr().String(), Data: []byte{byte(i)}}
	}
	if err := a.tr.Send(context.Background(), pkts); err != nil {
		t.Fatalf("Send to a dialing peer: %v, want nil (drops are not errors)", err)
	}
	ev := a.rec.WaitEvent(t, transporttest.Timeout, func(ev transport.Event) bool { return ev.Phase == "dial_failed" })
	// One in the writer's hand, two queued, the rest refused by the full
	// queue: all ten are gone.
	if !strings.Contains(ev.Summary, "dropped 10 packets") {
		t.Fatalf("dial_failed summary = %q, want 10 dropped", ev.Summary)
	}
	if got := a.tr.Stats().Dropped; got != 10 {
		t.Fatalf("Stats.Dropped = %d, want 10", got)
	}
}

func TestTapFileRecordsPayloadsAsHex(t *testing.T) {
	dir := t.TempDir()
	a := startNode(t, fmt.Sprintf("tap_file = %q", filepath.Join(dir, "a.tap")))
	b := startNode(t, "")
	a.send(t, b.addr, "to-b")
	waitData(t, b.rec, "to-b")
	b.send(t, a.addr, "to-a")
	waitData(t, a.rec, "to-a")
	if err := a.tr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "a.tap"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(raw))
	want := []string{hex.EncodeToString([]byte("to-b")), hex.EncodeToString([]byte("to-a"))}
	if strings.Join(lines, ",") != strings.Join(want, ",") {
		t.Fatalf("tap lines = %q, want %q", lines, want)
	}
}

func TestAdvertiseLabelsPackets(t *testing.T) {
	// A advertises a name for itself; B must label A's packets with it and
	// be able to reply through the existing connection.
	a := startNode(t, `advertise = ["localhost:1"]`)
	if a.addr != "localhost:1" {
		t.Fatalf("Start returned %q, want the advertised address", a.addr)
	}
	b := startNode(t, "")
	a.send(t, b.addr, "hi")
	got := waitData(t, b.rec, "hi")
	if got.Addr != "localhost:1" {
		t.Fatalf("packet labelled %q, want localhost:1", got.Addr)
	}
	b.send(t, got.Addr, "reply")
	waitData(t, a.rec, "reply")
}

func TestConfig(t *testing.T) {
	ok := `
listen       = "127.0.0.1:7001"
advertise    = ["192.0.2.1:7001", "node.example:7001"]
keepalive    = "30s"
dial_timeout = "2s"
max_queue    = 64
tap_file     = "tap.hex"
`
	s, err := parseConfig(base.Config{Filename: "c.hcl", Body: []byte(ok), DataDir: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	if s.listen != "127.0.0.1:7001" || len(s.advertise) != 2 || s.keepalive != 30*time.Second ||
		s.dialTimeout != 2*time.Second || s.maxQueue != 64 || s.tapFile != "/data/tap.hex" {
		t.Fatalf("settings = %+v", s)
	}
	d, err := parseConfig(base.Config{})
	if err != nil || d.listen != DefaultListen || d.keepalive != DefaultKeepalive || d.maxQueue != DefaultMaxQueue {
		t.Fatalf("defaults = %+v, %v", d, err)
	}

	bad := `
listen    = "nonsense"
keepalive = "soon"
max_queue = 0
advertise = ["no-port"]
`
	_, err = parseConfig(base.Config{Filename: "c.hcl", Body: []byte(bad)})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"c.hcl:2:1: listen", "c.hcl:3:1: keepalive", "c.hcl:4:1: max_queue", "c.hcl:5:1: advertise"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := parseConfig(base.Config{Filename: "c.hcl", Body: []byte(`lisen = "x:1"`)}); err == nil ||
		!strings.Contains(err.Error(), "lisen") {
		t.Errorf("unknown key: %v, want an error naming it", err)
	}
}

func TestSilentPeerClosedByKeepalive(t *testing.T) {
	a := startNode(t, `keepalive = "50ms"`)
	nc, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Say hello, then never answer a ping (and never read, so the kernel
	// buffers absorb A's pings).
	if _, err := nc.Write(appendHello(nil, "127.0.0.1:2")); err != nil {
		t.Fatal(err)
	}
	a.rec.WaitEvent(t, transporttest.Timeout, func(ev transport.Event) bool { return ev.Phase == "link_up" })
	waitLinkDowns(t, a.rec, 1)
	if logs := a.log.String(); !strings.Contains(logs, "peer presumed dead") || !strings.Contains(logs, "127.0.0.1:2") {
		t.Fatalf("log does not say why the link went down:\n%s", logs)
	}
}

func TestIdlePeerRetires(t *testing.T) {
	a := startNode(t, `
keepalive    = "20ms"
dial_timeout = "200ms"
`)
	gone := startNode(t, "")
	dead := gone.addr
	gone.tr.Stop(context.Background())
	a.send(t, dead, "x")
	a.rec.WaitEvent(t, transporttest.Timeout, func(ev transport.Event) bool { return ev.Phase == "dial_failed" })
	peers := func() int {
		a.tr.mu.Lock()
		defer a.tr.mu.Unlock()
		return len(a.tr.peers)
	}
	deadline := time.Now().Add(transporttest.Timeout)
	for peers() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := peers(); n != 0 {
		t.Fatalf("%d idle peers still held", n)
	}
	// A later send to the same address starts afresh.
	b := startNode(t, "")
	a.send(t, b.addr, "after")
	waitData(t, b.rec, "after")
}
