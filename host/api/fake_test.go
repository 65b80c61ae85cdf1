package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/api"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeBackend is an in-memory Backend. Subscriptions are buffered channels
// the test feeds with publish; preload events are put into a new
// subscription's buffer before Subscribe returns, to simulate events that
// arrive between subscribing and replaying.
type fakeBackend struct {
	mu      sync.Mutex
	inbox   []client.InboxItem
	sent    []*envelope.Envelope
	peers   []client.PeerInfo
	subs    []chan client.Event
	preload []client.Event
	newSub  chan struct{} // receives one value per Subscribe
	err     error         // returned by every method when set
	base    string
}

func newFake() *fakeBackend { return &fakeBackend{newSub: make(chan struct{}, 16)} }

func (f *fakeBackend) item(seq uint64) client.InboxItem {
	return client.InboxItem{
		Seq: seq, From: "node-a", Received: time.Unix(int64(1700000000+seq), 0).UTC(),
		Envelope: envelope.Envelope{ID: fmt.Sprintf("env-%d", seq), Kind: envelope.KindP2P, To: "me",
			Created: time.Unix(1700000000, 0).UTC(), Payload: []byte(fmt.Sprintf("msg %d", seq))},
	}
}

// store appends inbox items seqs (without publishing).
func (f *fakeBackend) store(seqs ...uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range seqs {
		f.inbox = append(f.inbox, f.item(s))
	}
}

func (f *fakeBackend) envEvent(seq uint64) client.Event {
	it := f.item(seq)
	return client.Event{Seq: seq, Type: client.EventEnvelope, Time: it.Received, Envelope: &it}
}

func (f *fakeBackend) publish(ev client.Event) {
	f.mu.Lock()
	subs := append([]chan client.Event(nil), f.subs...)
	f.mu.Unlock()
	for _, c := range subs {
		c <- ev
	}
}

func (f *fakeBackend) Status(ctx context.Context) (client.Status, error) {
	if f.err != nil {
		return client.Status{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var last uint64
	if n := len(f.inbox); n > 0 {
		last = f.inbox[n-1].Seq
	}
	return client.Status{NodeID: "node-self", ManCon: "HIGH", EffectiveManCon: "VERYHIGH", InboxLastSeq: last,
		Version: "test", Outbox: len(f.sent),
		Plugins: []client.PluginStatus{{Name: "tor", Kind: "transport", State: "ready", APIVersion: 1, PID: 42,
			Addresses: []string{"abc.onion:1"}, LastEvent: &client.TransportEvent{Plugin: "tor", State: "ready", Progress: 100}}},
		Stages: []client.StageStatus{{Name: "route", Submitted: 3, Processed: 2, Depth: 1, HighWater: 2}}}, nil
}

func (f *fakeBackend) Send(ctx context.Context, env *envelope.Envelope) (client.SendResult, error) {
	if f.err != nil {
		return client.SendResult{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, env)
	return client.SendResult{Queued: true}, nil
}

func (f *fakeBackend) Inbox(ctx context.Context, after uint64, limit int) ([]client.InboxItem, error) {
	if f.err != nil {
		return nil, f.err
	}
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
	if f.err != nil {
		return nil, f.err
	}
	c := make(chan client.Event, 64)
	f.mu.Lock()
	for _, ev := range f.preload {
		c <- ev
	}
	f.subs = append(f.subs, c)
	f.mu.Unlock()
	f.newSub <- struct{}{}
	return c, nil
}

// endSubs closes every subscription, as a backend does to a slow subscriber.
func (f *fakeBackend) endSubs() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.subs {
		close(c)
	}
	f.subs = nil
}

func (f *fakeBackend) Node(ctx context.Context) (client.NodeRecord, error) {
	if f.err != nil {
		return client.NodeRecord{}, f.err
	}
	return client.NodeRecord{Record: "cmVjb3Jk", NodeID: "node-self"}, nil
}

func (f *fakeBackend) AddPeer(ctx context.Context, record string) (client.PeerInfo, error) {
	if f.err != nil {
		return client.PeerInfo{}, f.err
	}
	if record == "bad" {
		return client.PeerInfo{}, fmt.Errorf("daemon: peer record: %w", api.ErrInvalid)
	}
	p := client.PeerInfo{NodeID: "peer-" + record, Addresses: map[string][]string{"tor": {"x.onion:1"}}}
	f.mu.Lock()
	f.peers = append(f.peers, p)
	f.mu.Unlock()
	return p, nil
}

func (f *fakeBackend) Peers(ctx context.Context) ([]client.PeerInfo, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.PeerInfo(nil), f.peers...), nil
}

func (f *fakeBackend) ManCon(ctx context.Context) (client.ManConStatus, error) {
	if f.err != nil {
		return client.ManConStatus{}, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.base
	if b == "" {
		b = "HIGH"
	}
	return client.ManConStatus{Base: b, Ratchet: b, Effective: b}, nil
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
	if f.err != nil {
		return client.Explanation{}, f.err
	}
	return client.Explanation{Level: "HIGH", Kind: kind, Routes: []string{"direct to " + to}, Explain: []string{"fake"}}, nil
}

var _ api.Backend = (*fakeBackend)(nil)

// newTestServer serves a Server over httptest on 127.0.0.1 and returns it
// with a client holding the right token.
func newTestServer(t *testing.T, f *fakeBackend, tune func(*api.Server)) (*httptest.Server, *client.Client) {
	t.Helper()
	s := &api.Server{Backend: f, Token: testToken}
	if tune != nil {
		tune(s)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, client.New(ts.URL, testToken)
}

func do(t *testing.T, h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
