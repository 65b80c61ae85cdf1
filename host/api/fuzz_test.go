package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/host/api"
)

// FuzzSend feeds arbitrary bodies to POST /v1/envelopes: the server must
// never panic and must answer 202, 400 or 413, and only a 202 may reach
// the backend.
func FuzzSend(f *testing.F) {
	for _, s := range []string{
		`{"to":"x"}`, `{"to":"x","payload":"aGk=","mancon":"NEO","ttl":5}`, `{"to":"x","headers":{"a":"b"}}`,
		`{"to":"x"} x`, `null`, `[]`, `{"to":"x","kind":"web","slip":["a","b"]}`, `{"created":"2020-01-01T00:00:00Z","to":"y"}`,
		`{"to":"\u0000"}`, `{"to":1}`, "", `{"to":"x","mancon":""}`,
	} {
		f.Add([]byte(s))
	}
	fb := newFake()
	h := (&api.Server{Backend: fb, Token: testToken, MaxBody: 4096}).Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		before := len(fb.sent)
		req := httptest.NewRequest("POST", "http://127.0.0.1/v1/envelopes", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := do(t, h, req)
		switch rec.Code {
		case 202:
			if len(fb.sent) != before+1 {
				t.Fatal("202 without reaching the backend")
			}
			if err := fb.sent[len(fb.sent)-1].Validate(); err != nil {
				t.Fatalf("backend got an invalid envelope: %v", err)
			}
		case 400, 413:
			if len(fb.sent) != before {
				t.Fatalf("status %d but the backend got the envelope", rec.Code)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		fb.mu.Lock()
		fb.sent = fb.sent[:0]
		fb.mu.Unlock()
	})
}
