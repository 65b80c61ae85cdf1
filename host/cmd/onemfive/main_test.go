package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

func TestUsageErrors(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"--no-such-flag", "status"}, {"status", "extra"}, {"status", "--bogus"},
		{"send", "hello"}, {"send", "--to", "x"}, {"send", "--to", "x", "--mancon", "ULTRA", "hi"},
		{"send", "--to", "x", "--file", "f", "text"}, {"send", "--to", "x", "--wait", "-1s", "hi"}, {"send", "--to", "x", "--wait", "soon", "hi"},
		{"listen", "--count", "-1"}, {"listen", "--after", "x"},
		{"inbox", "--limit", "0"}, {"peer"}, {"peer", "frob"}, {"peer", "add"}, {"peer", "add", "a", "b"},
		{"plugin"}, {"plugin", "frob"}, {"plugin", "install"}, {"plugin", "remove"},
	} {
		r := e.run(t, "", args...)
		if r.code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
		if r.stderr == "" {
			t.Errorf("%q: usage error without a message", args)
		}
	}
	if len(e.f.sent) != 0 {
		t.Fatal("a usage error sent something")
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"status", "--help"}, {"send", "-h"}, {"peer", "help"}, {"plugin", "--help"}} {
		if r := e.run(t, "", args...); r.code != 0 || strings.Count(r.stdout, "usage: onemfive") != 1 {
			t.Errorf("%q: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}

func TestBuildEnvelope(t *testing.T) {
	env, err := buildEnvelope(nil, "node-b", "chat", "post", "neo", "p2p", "", "", []string{"hello", "world"})
	if err != nil {
		t.Fatal(err)
	}
	if string(env.Payload) != "hello world" || env.ManCon != envelope.NEO || env.Service != "chat" ||
		env.Operation != "post" || env.ContentType != "text/plain; charset=utf-8" || env.To != "node-b" {
		t.Fatalf("%+v", env)
	}
	env, err = buildEnvelope(strings.NewReader("from stdin"), "x", "", "", "", "p2p", "application/x", "", []string{"-"})
	if err != nil || string(env.Payload) != "from stdin" || env.ContentType != "application/x" {
		t.Fatalf("%+v %v", env, err)
	}
	env, err = buildEnvelope(strings.NewReader("via --file -"), "x", "", "", "", "p2p", "", "-", nil)
	if err != nil || string(env.Payload) != "via --file -" || env.ContentType != "" {
		t.Fatalf("%+v %v", env, err)
	}
	path := filepath.Join(t.TempDir(), "p.bin")
	os.WriteFile(path, []byte{0, 1, 2}, 0o600)
	env, err = buildEnvelope(nil, "x", "", "", "", "p2p", "", path, nil)
	if err != nil || !bytes.Equal(env.Payload, []byte{0, 1, 2}) {
		t.Fatalf("%+v %v", env, err)
	}
	if _, err := buildEnvelope(nil, "x", "", "", "", "p2p", "", filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Fatal("missing file accepted")
	}
	big := strings.NewReader(strings.Repeat("x", envelope.MaxPayload+1))
	if _, err := buildEnvelope(big, "x", "", "", "", "p2p", "", "-", nil); err == nil {
		t.Fatal("oversize payload accepted")
	}
}

func TestStatus(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "", "status")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"node-self", "HIGH (effective VERYHIGH)", "up 1h0m0s", "tor", "4242",
		"blocked: connection reset", "abcdef.onion:9", "route", "SUBMITTED"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	r = e.run(t, "", "status", "--json")
	var st client.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.NodeID != "node-self" || st.Plugins[0].PID != 4242 {
		t.Fatalf("json: %v %+v", err, st)
	}
}

func TestSend(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "", "send", "--to", "node-b", "--mancon", "extreme", "--service", "chat", "hello", "there")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := e.f.sent[0]
	if string(got.Payload) != "hello there" || got.ManCon != envelope.EXTREME || got.Service != "chat" || got.To != "node-b" {
		t.Fatalf("sent %+v", got)
	}
	if r.stdout != "queued "+got.ID+"\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	r = e.run(t, "piped", "send", "--to", "node-b", "--json", "-")
	var res client.SendResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.ID != e.f.sent[1].ID || string(e.f.sent[1].Payload) != "piped" {
		t.Fatalf("exit %d out %q err %q", r.code, r.stdout, r.stderr)
	}
	// The server's validation error reaches the user with exit 1.
	r = e.run(t, "", "send", "--to", "x", "--kind", "mail", "hi")
	if r.code != 1 || !strings.Contains(r.stderr, "400") || !strings.Contains(r.stderr, "mail") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}

func TestInboxAndListen(t *testing.T) {
	e := newEnv(t)
	e.f.deliver(1, "first")
	e.f.deliver(2, "second\nline")

	r := e.run(t, "", "inbox")
	if r.code != 0 || !strings.Contains(r.stdout, "#1 ") || !strings.Contains(r.stdout, "    second\n    line\n") {
		t.Fatalf("inbox: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = e.run(t, "", "inbox", "--after", "1", "--json")
	var it client.InboxItem
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || json.Unmarshal([]byte(r.stdout), &it) != nil || it.Seq != 2 {
		t.Fatalf("inbox --json: %q", r.stdout)
	}
	r = e.run(t, "", "inbox", "--limit", "1")
	if !strings.Contains(r.stderr, "--after 1") {
		t.Fatalf("no paging hint: %q", r.stderr)
	}

	// listen --after 0 replays 1 and 2, then gets 3 live.
	done := make(chan result, 1)
	go func() { done <- e.run(t, "", "listen", "--after", "0", "--count", "3") }()
	<-e.f.newSub
	e.f.deliver(3, "third")
	r = <-done
	if r.code != 0 {
		t.Fatalf("listen: exit %d: %s", r.code, r.stderr)
	}
	i1, i2, i3 := strings.Index(r.stdout, "#1 "), strings.Index(r.stdout, "#2 "), strings.Index(r.stdout, "#3 ")
	if i1 < 0 || i2 < i1 || i3 < i2 || !strings.Contains(r.stdout, "    third") {
		t.Fatalf("listen output:\n%s", r.stdout)
	}

	// Without --after, listen prints only new envelopes.
	go func() { done <- e.run(t, "", "listen", "--count", "1", "--json") }()
	<-e.f.newSub
	e.f.deliver(4, "fourth")
	r = <-done
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &it) != nil || it.Seq != 4 {
		t.Fatalf("listen new: exit %d out %q err %q", r.code, r.stdout, r.stderr)
	}
}

// lineWriter hands every write to a channel, so a test can wait for output
// without polling.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) { w <- string(p); return len(p), nil }

func TestListenInterrupted(t *testing.T) {
	e := newEnv(t)
	e.f.deliver(5, "x")
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lineWriter, 16)
	var errb bytes.Buffer
	a := &app{stdout: out, stderr: &errb, stdin: strings.NewReader("")}
	done := make(chan int, 1)
	go func() { done <- a.main(ctx, []string{"--data-dir", e.dataDir, "listen", "--after", "4"}) }()
	<-e.f.newSub
	if s := <-out; !strings.HasPrefix(s, "#5 ") {
		t.Fatalf("first output %q", s)
	}
	e.f.deliver(6, "y")
	if s := <-out; !strings.HasPrefix(s, "#6 ") {
		t.Fatalf("second output %q", s)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "--after 6") {
		t.Fatalf("no resume hint: %q", errb.String())
	}
}

func TestIDAndPeers(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "", "id")
	if r.code != 0 || r.stdout != "c2lnbmVkLXJlY29yZA==\n" {
		t.Fatalf("id: %q %q", r.stdout, r.stderr)
	}
	if r = e.run(t, "", "peer", "list"); r.code != 0 || !strings.Contains(r.stderr, "no peers") {
		t.Fatalf("empty list: %+v", r)
	}
	if r = e.run(t, "", "peer", "add", "abc"); r.code != 0 || r.stdout != "added peer peer-abc\n" {
		t.Fatalf("add: %+v", r)
	}
	if r = e.run(t, " fromstdin\n", "peer", "add", "-"); r.code != 0 || r.stdout != "added peer peer-fromstdin\n" {
		t.Fatalf("add -: %+v", r)
	}
	if r = e.run(t, "", "peer", "add", "bad"); r.code != 1 || !strings.Contains(r.stderr, "bad signature") {
		t.Fatalf("add bad: %+v", r)
	}
	r = e.run(t, "", "peer", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "peer-abc") || !strings.Contains(r.stdout, "p.b32.i2p") ||
		!strings.Contains(r.stdout, "peer-fromstdin") {
		t.Fatalf("list:\n%s", r.stdout)
	}
}

func TestAPIAndTokenOverrides(t *testing.T) {
	e := newEnv(t)
	addr, _ := client.ReadAddr(e.dataDir)
	tok, _ := client.ReadCookie(e.dataDir)
	empty := t.TempDir()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
	if code := a.main(context.Background(), []string{"--data-dir", empty, "--api", "http://" + addr, "--token", tok, "id"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	a = &app{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
	errb.Reset()
	if code := a.main(context.Background(), []string{"--data-dir", empty, "--api", addr, "--token", "wrong", "id"}); code != 1 ||
		!strings.Contains(errb.String(), "401") {
		t.Fatalf("wrong token: exit %d %q", code, errb.String())
	}
	errb.Reset()
	if code := a.main(context.Background(), []string{"--data-dir", empty, "status"}); code != 1 ||
		!strings.Contains(errb.String(), "is the daemon running?") {
		t.Fatalf("no daemon: exit %d %q", code, errb.String())
	}
	t.Setenv(client.DataDirEnv, e.dataDir)
	errb.Reset()
	if code := run(context.Background(), []string{"id"}, &out, &errb); code != 0 {
		t.Fatalf("ONEMFIVE_DATA_DIR not used: %q", errb.String())
	}
}
