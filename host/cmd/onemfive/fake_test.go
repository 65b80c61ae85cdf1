package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/api"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// fakeBackend is a small in-memory api.Backend for the CLI tests.
type fakeBackend struct {
	mu     sync.Mutex
	inbox  []client.InboxItem
	sent   []*envelope.Envelope
	peers  []client.PeerInfo
	subs   []chan client.Event
	newSub chan struct{}
	base   string
	web    string // the web proxy address Status reports
}

var _ api.Backend = (*fakeBackend)(nil)

func (f *fakeBackend) ManCon(ctx context.Context) (client.ManConStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.base
	if b == "" {
		b = "HIGH"
	}
	return client.ManConStatus{Base: b, Ratchet: b, Effective: "EXTREME", Blocked: []string{"tor"},
		Networks: map[string]client.NetworkState{"tor": {Status: "blocked", Why: "bootstrap stuck"}}}, nil
}

func (f *fakeBackend) SetManCon(ctx context.Context, level string) (client.ManConStatus, error) {
	m, err := envelope.ParseManCon(level)
	if err != nil {
		return client.ManConStatus{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	f.mu.Lock()
	f.base = m.String()
	f.mu.Unlock()
	return f.ManCon(ctx)
}

func (f *fakeBackend) Explain(ctx context.Context, kind, to, level string) (client.Explanation, error) {
	return client.Explanation{Level: "HIGH", Kind: kind, Routes: []string{"direct to " + to}, Explain: []string{"live"}}, nil
}

func item(seq uint64, text string) client.InboxItem {
	return client.InboxItem{Seq: seq, From: "node-a", Received: time.Unix(1700000000+int64(seq), 0).UTC(),
		Envelope: envelope.Envelope{ID: fmt.Sprintf("env-%d", seq), Kind: envelope.KindP2P, To: "me",
			ContentType: "text/plain", Payload: []byte(text)}}
}

func (f *fakeBackend) deliver(seq uint64, text string) {
	it := item(seq, text)
	f.mu.Lock()
	f.inbox = append(f.inbox, it)
	subs := append([]chan client.Event(nil), f.subs...)
	f.mu.Unlock()
	for _, c := range subs {
		c <- client.Event{Seq: seq, Type: client.EventEnvelope, Envelope: &it}
	}
}

func (f *fakeBackend) Status(ctx context.Context) (client.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := client.Status{NodeID: "node-self", ManCon: "HIGH", EffectiveManCon: "VERYHIGH", Version: "0.1.0",
		StartedAt: time.Now().Add(-time.Hour), Outbox: 2,
		Plugins: []client.PluginStatus{{Name: "tor", Kind: "transport", Version: "1.0.0", State: "ready", APIVersion: 1, PID: 4242,
			Addresses: []string{"abcdef.onion:9"}, LastEvent: &client.TransportEvent{State: "blocked", Reason: "connection reset"}}},
		Stages:   []client.StageStatus{{Name: "route", Submitted: 10, Processed: 9, Depth: 1, HighWater: 3}},
		WebProxy: f.web}
	if n := len(f.inbox); n > 0 {
		st.InboxLastSeq = f.inbox[n-1].Seq
	}
	return st, nil
}

func (f *fakeBackend) Send(ctx context.Context, env *envelope.Envelope) (client.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, env)
	return client.SendResult{ID: env.ID, Queued: true}, nil
}

func (f *fakeBackend) Inbox(ctx context.Context, after uint64, limit int) ([]client.InboxItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []client.InboxItem
	for _, it := range f.inbox {
		if it.Seq > after && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

func (f *fakeBackend) Subscribe(ctx context.Context) (<-chan client.Event, error) {
	c := make(chan client.Event, 16)
	f.mu.Lock()
	f.subs = append(f.subs, c)
	f.mu.Unlock()
	f.newSub <- struct{}{}
	return c, nil
}

func (f *fakeBackend) Node(ctx context.Context) (client.NodeRecord, error) {
	return client.NodeRecord{Record: "c2lnbmVkLXJlY29yZA==", NodeID: "node-self"}, nil
}

func (f *fakeBackend) AddPeer(ctx context.Context, record string) (client.PeerInfo, error) {
	if record == "bad" {
		return client.PeerInfo{}, fmt.Errorf("daemon: peer record: bad signature: %w", api.ErrInvalid)
	}
	p := client.PeerInfo{NodeID: "peer-" + record, Addresses: map[string][]string{"tor": {"p.onion:1"}, "i2p": {"p.b32.i2p"}}}
	f.mu.Lock()
	f.peers = append(f.peers, p)
	f.mu.Unlock()
	return p, nil
}

func (f *fakeBackend) Peers(ctx context.Context) ([]client.PeerInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.PeerInfo(nil), f.peers...), nil
}

// env is a running fake daemon: an API server over a fake backend, and a
// data dir holding its api.addr and api.cookie as the daemon writes them.
type env struct {
	f       *fakeBackend
	dataDir string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	tok, err := api.WriteCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBackend{newSub: make(chan struct{}, 16)}
	ts := httptest.NewServer((&api.Server{Backend: f, Token: tok}).Handler())
	t.Cleanup(ts.Close)
	addr := strings.TrimPrefix(ts.URL, "http://")
	if err := os.WriteFile(filepath.Join(dir, client.AddrFile), []byte(addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{f: f, dataDir: dir}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI against e with stdin, prepending --data-dir.
func (e *env) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin),
		executable: func() (string, error) { return "", fmt.Errorf("no executable in tests") }}
	code := a.main(context.Background(), append([]string{"--data-dir", e.dataDir}, args...))
	return result{code, out.String(), errb.String()}
}
