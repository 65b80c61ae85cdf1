package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/sdk/client"
)

func TestReadEvents(t *testing.T) {
	stream := ": onemfive events\n\n" +
		"id: 7\nevent: envelope\ndata: {\"type\":\"envelope\",\"envelope\":{\"seq\":7,\"envelope\":{\"id\":\"a\",\"kind\":\"p2p\",\"to\":\"b\"}}}\n\n" +
		": ping\n\n" +
		"event: mancon\r\ndata: {\"message\":\"up\"}\r\n\r\n" + // type from the event name; CRLF
		"data: {\"type\":\"plugin\",\r\ndata: \"message\":\"two lines\"}\n\n" + // multi-line data
		"retry: 10\nid: 8\n\n" + // no data: not dispatched
		"data:{\"type\":\"delivery\",\"data\":{\"n\":1}}\n\n"
	var got []client.Event
	err := client.ReadEvents(strings.NewReader(stream), func(ev client.Event) error {
		got = append(got, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d events: %+v", len(got), got)
	}
	if got[0].Type != client.EventEnvelope || got[0].Seq != 7 || got[0].Envelope.Envelope.To != "b" {
		t.Fatalf("envelope event %+v", got[0])
	}
	if got[1].Type != client.EventMancon || got[1].Message != "up" || got[1].Seq != 0 {
		t.Fatalf("mancon event %+v", got[1])
	}
	if got[2].Type != client.EventPlugin || got[2].Message != "two lines" {
		t.Fatalf("plugin event %+v", got[2])
	}
	if got[3].Type != client.EventDelivery || got[3].Data["n"] != float64(1) {
		t.Fatalf("delivery event %+v", got[3])
	}
}

func TestReadEventsErrors(t *testing.T) {
	if err := client.ReadEvents(strings.NewReader("data: {nope\n\n"), func(client.Event) error { return nil }); err == nil {
		t.Fatal("malformed JSON accepted")
	}
	stop := errors.New("stop")
	n := 0
	err := client.ReadEvents(strings.NewReader("data: {}\n\ndata: {}\n\n"), func(client.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("callback error not returned: %v after %d", err, n)
	}
	// An event never terminated by a blank line is not dispatched.
	err = client.ReadEvents(strings.NewReader("data: {}"), func(client.Event) error { t.Fatal("dispatched"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	huge := "data: " + strings.Repeat("x", client.MaxEventSize+1) + "\n\n"
	if err := client.ReadEvents(strings.NewReader(huge), func(client.Event) error { return nil }); err == nil {
		t.Fatal("oversize event accepted")
	}
}

func TestRequestsCarryTokenAndDecodeErrors(t *testing.T) {
	var gotAuth, gotPath string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.RequestURI()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"code":"unavailable","message":"shutting down"}}`)
	}))
	defer ts.Close()
	c := client.New(strings.TrimPrefix(ts.URL, "http://")+"/", " tok\n")
	_, err := c.Inbox(context.Background(), 5, 7)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Code != client.CodeUnavailable || ae.Message != "shutting down" {
		t.Fatalf("%#v", err)
	}
	if gotAuth != "Bearer tok" || gotPath != "/v1/inbox?after=5&limit=7" {
		t.Fatalf("auth %q path %q", gotAuth, gotPath)
	}
	if client.StatusOf(err) != 503 || client.StatusOf(errors.New("x")) != 0 {
		t.Fatal("StatusOf")
	}
	if !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("message %q", err)
	}
	events, errc := c.Events(context.Background(), 0)
	if _, ok := <-events; ok {
		t.Fatal("event from a failed stream")
	}
	if client.StatusOf(<-errc) != 503 {
		t.Fatal("stream error lost its status")
	}
}

func TestFromDataDir(t *testing.T) {
	dir := t.TempDir()
	if _, err := client.FromDataDir(dir); err == nil {
		t.Fatal("no files, no error")
	}
	os.WriteFile(filepath.Join(dir, client.AddrFile), []byte("127.0.0.1:2018\n"), 0o600)
	if _, err := client.FromDataDir(dir); err == nil {
		t.Fatal("no cookie, no error")
	}
	os.WriteFile(filepath.Join(dir, client.CookieFile), []byte("\n"), 0o600)
	if _, err := client.FromDataDir(dir); err == nil {
		t.Fatal("empty cookie accepted")
	}
	os.WriteFile(filepath.Join(dir, client.CookieFile), []byte("abc\n"), 0o600)
	c, err := client.FromDataDir(dir)
	if err != nil || c.BaseURL() != "http://127.0.0.1:2018" {
		t.Fatalf("%v %v", c, err)
	}
}

func TestDefaultDataDir(t *testing.T) {
	t.Setenv(client.DataDirEnv, "/x/y")
	if d := client.DefaultDataDir(); d != "/x/y" {
		t.Fatal(d)
	}
	t.Setenv(client.HomeEnv, "/h")
	if d := client.DefaultDataDir(); d != "/x/y" {
		t.Fatal(d)
	}
	t.Setenv(client.DataDirEnv, "")
	if d := client.DefaultDataDir(); d != "/h" {
		t.Fatal(d)
	}
	t.Setenv(client.HomeEnv, "")
	t.Setenv("HOME", "/home/u")
	if d := client.DefaultDataDir(); d != "/home/u/.onemfive" {
		t.Fatal(d)
	}
}
