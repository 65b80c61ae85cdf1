package api_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/api"
	"github.com/onemfive/onemfive/sdk/client"
)

// next receives one event or fails the test when the stream ends.
func next(t *testing.T, events <-chan client.Event, errc <-chan error) client.Event {
	t.Helper()
	ev, ok := <-events
	if !ok {
		t.Fatalf("stream ended early: %v", <-errc)
	}
	return ev
}

func TestEventsReplayThenLiveNoGapNoDup(t *testing.T) {
	f := newFake()
	f.store(1, 2, 3, 4, 5, 6)
	// Events for 4..6 were published after the subscription started and
	// before the replay read the inbox: the replay sends them, the live
	// copies must be skipped.
	f.preload = []client.Event{f.envEvent(4), f.envEvent(5),
		{Type: client.EventMancon, Message: "HIGH -> VERYHIGH", Seq: 99}, f.envEvent(6)}
	_, c := newTestServer(t, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, errc := c.Events(ctx, 2)
	<-f.newSub

	var seqs []uint64
	var others []client.Event
	for len(seqs) < 4 || len(others) < 1 {
		ev := next(t, events, errc)
		switch ev.Type {
		case client.EventEnvelope:
			if ev.Envelope == nil || ev.Envelope.Seq != ev.Seq || ev.Envelope.Envelope.ID == "" {
				t.Fatalf("envelope event %+v", ev)
			}
			seqs = append(seqs, ev.Seq)
		default:
			others = append(others, ev)
		}
	}
	assertSeqs(t, seqs, 3, 6)
	if others[0].Type != client.EventMancon || others[0].Seq != 0 || others[0].Message != "HIGH -> VERYHIGH" {
		t.Fatalf("non-envelope event %+v", others[0])
	}

	// Live: 7 is stored then published. 8 is stored but its event is lost;
	// 9's event must bring 8 along from the inbox. A stale 5 is skipped.
	f.store(7)
	f.publish(f.envEvent(7))
	f.store(8, 9)
	f.publish(f.envEvent(5))
	f.publish(f.envEvent(9))
	f.publish(client.Event{Type: client.EventTransport, Transport: &client.TransportEvent{Plugin: "tor", State: "blocked", Reason: "reset"}})
	seqs = seqs[:0]
	for len(seqs) < 3 {
		ev := next(t, events, errc)
		if ev.Type == client.EventEnvelope {
			seqs = append(seqs, ev.Seq)
		}
	}
	assertSeqs(t, seqs, 7, 9)
	ev := next(t, events, errc)
	if ev.Type != client.EventTransport || ev.Transport == nil || ev.Transport.Reason != "reset" {
		t.Fatalf("transport event %+v", ev)
	}

	// The backend drops the subscriber: the stream ends with ErrStreamEnded.
	f.endSubs()
	for range events {
		t.Fatal("event after the subscription ended")
	}
	if err := <-errc; !errors.Is(err, client.ErrStreamEnded) {
		t.Fatalf("end: %v", err)
	}

	// Resuming after the last seq seen replays nothing old.
	f.preload = nil
	f.store(10)
	events, errc = c.Events(ctx, 9)
	if ev := next(t, events, errc); ev.Seq != 10 {
		t.Fatalf("resume got %+v", ev)
	}
	cancel()
	for range events {
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestEventsReplayPagesAndLastEventID(t *testing.T) {
	f := newFake()
	for i := uint64(1); i <= 600; i++ { // more than one replay page
		f.store(i)
	}
	ts, _ := newTestServer(t, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v1/events?after=1", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Last-Event-ID", "3") // wins over after=1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var ids []uint64
	want := uint64(4)
	err = client.ReadEvents(resp.Body, func(ev client.Event) error {
		if ev.Seq != want {
			t.Fatalf("seq %d, want %d", ev.Seq, want)
		}
		ids = append(ids, ev.Seq)
		want++
		if ev.Seq == 600 {
			return errors.New("done")
		}
		return nil
	})
	if err == nil || err.Error() != "done" {
		t.Fatal(err)
	}
	assertSeqs(t, ids, 4, 600)
}

func TestEventsWireFormatAndHeartbeat(t *testing.T) {
	f := newFake()
	f.store(1)
	ts, _ := newTestServer(t, f, func(s *api.Server) { s.Heartbeat = time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == ": ping" {
			break
		}
	}
	got := strings.Join(lines, "\n")
	if !strings.Contains(got, "id: 1\nevent: envelope\ndata: {") {
		t.Fatalf("stream:\n%s", got)
	}
	if lines[len(lines)-1] != ": ping" {
		t.Fatalf("no heartbeat:\n%s", got)
	}
}

func TestServeWritesAddrAndShutdownEndsStreams(t *testing.T) {
	dir := t.TempDir()
	tok, err := api.WriteCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	s := &api.Server{Backend: f, Token: tok, DataDir: dir}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	// api.addr appears with the real port; wait for it by polling the file
	// (bounded by count, not by time).
	var addr string
	for i := 0; i < 1000 && addr == ""; i++ {
		if b, err := os.ReadFile(filepath.Join(dir, client.AddrFile)); err == nil {
			addr = strings.TrimSpace(string(b))
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	if addr != ln.Addr().String() {
		t.Fatalf("api.addr %q, listener %q", addr, ln.Addr())
	}
	c, err := client.FromDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	events, errc := c.Events(ctx, 0)
	<-f.newSub
	if err := s.Serve(ctx, ln); err == nil {
		t.Fatal("second Serve succeeded")
	}
	cancel() // Serve's ctx: shuts the server down
	for range events {
	}
	if err := <-errc; err == nil {
		t.Fatal("no error at stream end")
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, client.AddrFile)); !os.IsNotExist(err) {
		t.Fatalf("api.addr left behind: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	if _, err := client.FromDataDir(dir); err == nil {
		t.Fatal("FromDataDir found a stopped daemon")
	}
}

func TestShutdownBeforeServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &api.Server{Backend: newFake(), Token: testToken}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); err != nil {
		t.Fatalf("serve after shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener left open")
	}
}

func TestServeRefusesMisconfiguration(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := (&api.Server{Token: "x"}).Serve(context.Background(), ln); err == nil {
		t.Fatal("served without backend")
	}
	if err := (&api.Server{Backend: newFake()}).Serve(context.Background(), ln); err == nil {
		t.Fatal("served without token")
	}
}

func TestWriteCookie(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tok1, err := api.WriteCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok1) != 64 || strings.Trim(tok1, "0123456789abcdef") != "" {
		t.Fatalf("token %q", tok1)
	}
	path := filepath.Join(dir, client.CookieFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	tok2, err := api.WriteCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok1 {
		t.Fatal("cookie not replaced")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	got, err := client.ReadCookie(dir)
	if err != nil || got != tok2 {
		t.Fatalf("read back %q %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}
