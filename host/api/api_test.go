package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/host/api"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

func decodeErrBody(t *testing.T, rec *httptest.ResponseRecorder) client.ErrorDetail {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error content type %q, want application/json", ct)
	}
	var body client.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	if body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("error body lacks code or message: %q", rec.Body.String())
	}
	return body.Error
}

func TestAuth(t *testing.T) {
	h := (&api.Server{Backend: newFake(), Token: testToken}).Handler()
	cases := []struct {
		name, auth string
		want       int
	}{
		{"none", "", 401},
		{"wrong", "Bearer " + strings.Repeat("0", 64), 401},
		{"prefix", "Bearer " + testToken[:10], 401},
		{"longer", "Bearer " + testToken + "0", 401},
		{"scheme", "Basic " + testToken, 401},
		{"bare", testToken, 401},
		{"right", "Bearer " + testToken, 200},
		{"lowercase scheme", "bearer " + testToken, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://127.0.0.1:2018/v1/status", nil)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			rec := do(t, h, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if c.want == 401 {
				if d := decodeErrBody(t, rec); d.Code != client.CodeUnauthorized {
					t.Fatalf("code %q", d.Code)
				}
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			}
		})
	}
}

func TestEmptyTokenRefusesAll(t *testing.T) {
	h := (&api.Server{Backend: newFake()}).Handler()
	req := httptest.NewRequest("GET", "http://127.0.0.1/v1/status", nil)
	req.Header.Set("Authorization", "Bearer ")
	if rec := do(t, h, req); rec.Code != 401 {
		t.Fatalf("status %d, want 401", rec.Code)
	}
}

func TestHostAndOrigin(t *testing.T) {
	h := (&api.Server{Backend: newFake(), Token: testToken}).Handler()
	cases := []struct {
		host   string
		header string // "Name: value"
		want   int
	}{
		{"127.0.0.1:2018", "", 200},
		{"127.0.0.1", "", 200},
		{"127.3.4.5:99", "", 200},
		{"localhost:2018", "", 200},
		{"LOCALHOST", "", 200},
		{"[::1]:2018", "", 200},
		{"[::ffff:127.0.0.1]:2018", "", 200},
		{"evil.example", "", 403},
		{"evil.example:2018", "", 403},
		{"localhost.evil.example:2018", "", 403},
		{"10.0.0.1:2018", "", 403},
		{"0.0.0.0:2018", "", 403},
		{"", "", 403},
		{"127.0.0.1:2018", "Origin: http://127.0.0.1:2018", 403},
		{"127.0.0.1:2018", "Origin: null", 403},
		{"127.0.0.1:2018", "Sec-Fetch-Site: same-origin", 403},
	}
	for _, c := range cases {
		t.Run(c.host+" "+c.header, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://127.0.0.1/v1/status", nil)
			req.Host = c.host
			req.Header.Set("Authorization", "Bearer "+testToken) // a valid token does not help
			if name, val, ok := strings.Cut(c.header, ": "); ok {
				req.Header.Set(name, val)
			}
			rec := do(t, h, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if c.want == 403 {
				if d := decodeErrBody(t, rec); d.Code != client.CodeForbidden {
					t.Fatalf("code %q", d.Code)
				}
			}
		})
	}
}

func TestAllowHosts(t *testing.T) {
	h := (&api.Server{Backend: newFake(), Token: testToken, AllowHosts: []string{"node.lan", "[fd00::1]:2018"}}).Handler()
	for host, want := range map[string]int{"NODE.lan:2018": 200, "node.lan": 200, "[fd00::1]:2018": 200,
		"fd00::1": 200, "other.lan": 403, "127.0.0.1": 200} {
		req := httptest.NewRequest("GET", "http://127.0.0.1/v1/status", nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+testToken)
		if rec := do(t, h, req); rec.Code != want {
			t.Errorf("host %q: status %d, want %d", host, rec.Code, want)
		}
	}
}

func TestStatusNodePeers(t *testing.T) {
	f := newFake()
	f.store(1, 2, 3)
	_, c := newTestServer(t, f, nil)
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NodeID != "node-self" || st.InboxLastSeq != 3 || st.EffectiveManCon != "VERYHIGH" ||
		len(st.Plugins) != 1 || st.Plugins[0].LastEvent == nil || st.Plugins[0].LastEvent.Progress != 100 ||
		len(st.Stages) != 1 || st.Stages[0].HighWater != 2 {
		t.Fatalf("status did not round-trip: %+v", st)
	}
	rec, err := c.Node(ctx)
	if err != nil || rec.Record != "cmVjb3Jk" || rec.NodeID != "node-self" {
		t.Fatalf("node: %+v %v", rec, err)
	}
	peers, err := c.Peers(ctx)
	if err != nil || len(peers) != 0 {
		t.Fatalf("peers before add: %v %v", peers, err)
	}
	p, err := c.AddPeer(ctx, " abc\n")
	if err != nil || p.NodeID != "peer-abc" || p.Addresses["tor"][0] != "x.onion:1" {
		t.Fatalf("add peer: %+v %v", p, err)
	}
	peers, err = c.Peers(ctx)
	if err != nil || len(peers) != 1 || peers[0].NodeID != "peer-abc" {
		t.Fatalf("peers after add: %v %v", peers, err)
	}
	_, err = c.AddPeer(ctx, "bad")
	if client.StatusOf(err) != 400 {
		t.Fatalf("bad record: %v", err)
	}
	_, err = c.AddPeer(ctx, "")
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != client.CodeBadRequest {
		t.Fatalf("empty record: %v", err)
	}
}

func TestSend(t *testing.T) {
	f := newFake()
	_, c := newTestServer(t, f, nil)
	ctx := context.Background()
	res, err := c.Send(ctx, &envelope.Envelope{To: "node-b", Payload: []byte("hi"), ManCon: envelope.NEO})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Queued || len(res.ID) != 32 {
		t.Fatalf("result %+v", res)
	}
	got := f.sent[0]
	if got.ID != res.ID || got.Kind != envelope.KindP2P || got.Created.IsZero() || got.ManCon != envelope.NEO ||
		string(got.Payload) != "hi" || got.To != "node-b" {
		t.Fatalf("backend got %+v", got)
	}
	// A given id and kind are kept.
	res, err = c.Send(ctx, &envelope.Envelope{ID: "mine", Kind: envelope.KindService, To: "svc", Service: "did"})
	if err != nil || res.ID != "mine" || f.sent[1].Kind != envelope.KindService {
		t.Fatalf("%+v %v", res, err)
	}
	// Invalid envelope: no destination.
	_, err = c.Send(ctx, &envelope.Envelope{Payload: []byte("x")})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != client.CodeInvalidEnvelope ||
		!strings.Contains(ae.Message, "destination") {
		t.Fatalf("invalid: %v", err)
	}
	if len(f.sent) != 2 {
		t.Fatalf("invalid envelope reached the backend")
	}
}

func TestSendBadBodies(t *testing.T) {
	f := newFake()
	h := (&api.Server{Backend: f, Token: testToken, MaxBody: 1024}).Handler()
	big := fmt.Sprintf(`{"to":"x","payload":"%s"}`, strings.Repeat("QUFB", 400))
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty", ``, 400, client.CodeBadRequest},
		{"not json", `hello`, 400, client.CodeBadRequest},
		{"truncated", `{"to":"x"`, 400, client.CodeBadRequest},
		{"array", `[1,2]`, 400, client.CodeBadRequest},
		{"unknown field", `{"to":"x","tu":"y"}`, 400, client.CodeBadRequest},
		{"trailing value", `{"to":"x"} {"to":"y"}`, 400, client.CodeBadRequest},
		{"trailing garbage", `{"to":"x"}}`, 400, client.CodeBadRequest},
		{"bad mancon", `{"to":"x","mancon":"ULTRA"}`, 400, client.CodeBadRequest},
		{"bad payload", `{"to":"x","payload":"!!"}`, 400, client.CodeBadRequest},
		{"bad kind", `{"to":"x","kind":"mail"}`, 400, client.CodeInvalidEnvelope},
		{"negative ttl", `{"to":"x","ttl":-1}`, 400, client.CodeInvalidEnvelope},
		{"null", `null`, 400, client.CodeInvalidEnvelope},
		{"oversize", big, 413, client.CodeTooLarge},
		{"ok with trailing space", "{\"to\":\"x\"}\n \n", 202, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://127.0.0.1/v1/envelopes", strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			rec := do(t, h, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.code != "" {
				if d := decodeErrBody(t, rec); d.Code != c.code {
					t.Fatalf("code %q, want %q (%s)", d.Code, c.code, d.Message)
				}
			}
		})
	}
	if len(f.sent) != 1 {
		t.Fatalf("backend got %d envelopes, want 1", len(f.sent))
	}
}

func TestInboxPaging(t *testing.T) {
	f := newFake()
	for i := uint64(1); i <= 25; i++ {
		f.store(i)
	}
	_, c := newTestServer(t, f, nil)
	ctx := context.Background()
	var seqs []uint64
	var after uint64
	for pages := 0; ; pages++ {
		items, err := c.Inbox(ctx, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			if pages != 3 {
				t.Fatalf("%d pages, want 3", pages)
			}
			break
		}
		if len(items) > 10 {
			t.Fatalf("page of %d", len(items))
		}
		for _, it := range items {
			seqs = append(seqs, it.Seq)
			if string(it.Envelope.Payload) != fmt.Sprintf("msg %d", it.Seq) {
				t.Fatalf("item %d payload %q", it.Seq, it.Envelope.Payload)
			}
		}
		after = items[len(items)-1].Seq
	}
	assertSeqs(t, seqs, 1, 25)
	// Default limit and clamping.
	items, err := c.Inbox(ctx, 20, 0)
	if err != nil || len(items) != 5 || items[0].Seq != 21 {
		t.Fatalf("default limit: %v %v", items, err)
	}
	h := (&api.Server{Backend: f, Token: testToken}).Handler()
	for _, q := range []string{"after=-1", "after=x", "limit=0", "limit=-5", "limit=1e3"} {
		req := httptest.NewRequest("GET", "http://127.0.0.1/v1/inbox?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		if rec := do(t, h, req); rec.Code != 400 {
			t.Fatalf("%s: status %d, want 400", q, rec.Code)
		} else if d := decodeErrBody(t, rec); d.Code != client.CodeBadRequest {
			t.Fatalf("%s: code %q", q, d.Code)
		}
	}
}

func TestErrorShapes(t *testing.T) {
	f := newFake()
	h := (&api.Server{Backend: f, Token: testToken}).Handler()
	req := func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+testToken)
		return do(t, h, r)
	}
	check := func(rec *httptest.ResponseRecorder, status int, code string) {
		t.Helper()
		if rec.Code != status {
			t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
		}
		if d := decodeErrBody(t, rec); d.Code != code {
			t.Fatalf("code %q, want %q", d.Code, code)
		}
	}
	check(req("GET", "/v2/status", ""), 404, client.CodeNotFound)
	check(req("GET", "/", ""), 404, client.CodeNotFound)
	rec := req("DELETE", "/v1/status", "")
	check(rec, 405, client.CodeMethodNotAllowed)
	if rec.Header().Get("Allow") != "GET" {
		t.Fatalf("Allow %q", rec.Header().Get("Allow"))
	}
	check(req("GET", "/v1/envelopes", ""), 405, client.CodeMethodNotAllowed)
	check(req("POST", "/v1/peers", "{"), 400, client.CodeBadRequest)

	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("daemon: %w", api.ErrUnavailable), 503, client.CodeUnavailable},
		{fmt.Errorf("daemon: %w", api.ErrNotFound), 404, client.CodeNotFound},
		{fmt.Errorf("daemon: %w", api.ErrInvalid), 400, client.CodeBadRequest},
		{fmt.Errorf("daemon: %w", envelope.ErrInvalid), 400, client.CodeInvalidEnvelope},
		{errors.New("daemon: disk on fire"), 500, client.CodeInternal},
	} {
		f.err = c.err
		for _, path := range []string{"/v1/status", "/v1/node", "/v1/peers", "/v1/inbox", "/v1/events"} {
			check(req("GET", path, ""), c.status, c.code)
		}
		check(req("POST", "/v1/envelopes", `{"to":"x"}`), c.status, c.code)
		check(req("POST", "/v1/peers", `{"record":"x"}`), c.status, c.code)
	}
	// The client keeps status and message of a non-JSON error body.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "proxy says no", http.StatusBadGateway)
	}))
	defer ts.Close()
	_, err := client.New(ts.URL, "t").Status(context.Background())
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Message != "proxy says no" {
		t.Fatalf("%#v", err)
	}
}

func assertSeqs(t *testing.T, got []uint64, from, to uint64) {
	t.Helper()
	if len(got) != int(to-from+1) {
		t.Fatalf("seqs %v, want %d..%d", got, from, to)
	}
	for i, s := range got {
		if s != from+uint64(i) {
			t.Fatalf("seqs %v, want %d..%d", got, from, to)
		}
	}
}
