package daemon_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/client"
)

// TestNoClearnetFallbackByDefault: two hosts on a direct link cannot build
// the onion paths the default policy asks for. By default A does not send
// without them over a link that shows B its IP address: the envelope
// waits, and the event stream (and send --wait) says why.
// fallback_clearnet = true lets the queued envelopes through.
func TestNoClearnetFallbackByDefault(t *testing.T) {
	a := newHost(t, "A", hostOpts{config: "onion {\n  probe_interval = \"1s\"\n}"})
	b := newHost(t, "B", hostOpts{})
	startAll(a, b)
	hosttest.Introduce(t, a.Host, b.Host)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	evs, errs := a.C.Events(ctx, a.Status().InboxLastSeq)
	id := a.Send(b.Host, "must not leave over a bare link")
	var why string
	for ev := range evs {
		if ev.Type == client.EventDelivery && ev.Data["id"] == id {
			if st := ev.Data["state"]; st != "waiting" {
				t.Fatalf("envelope %s: state %v (%s), want waiting", id, st, ev.Message)
			}
			why = ev.Message
			break
		}
	}
	if why == "" {
		t.Fatalf("no waiting event for %s: %v", id, <-errs)
	}
	if !strings.Contains(why, "fallback_clearnet is off") || !strings.Contains(why, "onion hops") {
		t.Fatalf("waiting event does not say why: %s", why)
	}
	// The CLI follows an envelope with --wait and says the same.
	out, err := a.CLI("send", "--to", b.Status().NodeID, "--wait", "3s", "nor this one")
	if err == nil || !strings.Contains(out, "queued ") || !strings.Contains(out, "fallback_clearnet is off") ||
		!strings.Contains(err.Error(), "not acknowledged within 3s; it stays queued") {
		t.Fatalf("send --wait on a waiting envelope: %v\n%s", err, out)
	}
	// B never gets them while A runs so (A retries every few seconds).
	if got := b.Status().InboxLastSeq; got != 0 {
		t.Fatalf("B received %d envelopes over a bare link", got)
	}

	// The user allows it: the same queued envelope leaves, downgraded.
	a.Stop()
	cfg, err := os.ReadFile(a.Config)
	if err != nil {
		t.Fatal(err)
	}
	allowed := strings.Replace(string(cfg), "probe_interval = \"1s\"", "fallback_clearnet = true", 1)
	if allowed == string(cfg) {
		t.Fatal("A's config has no onion line to change")
	}
	if err := os.WriteFile(a.Config, []byte(allowed), 0o600); err != nil {
		t.Fatal(err)
	}
	startAll(a)
	items := b.WaitInbox(2, 30*time.Second)
	hosttest.CheckExactlyOnce(t, items, map[string]bool{"must not leave over a bare link": true, "nor this one": true}, a.Status().NodeID)
	out, err = a.CLI("send", "--to", b.Status().NodeID, "--wait", "30s", "allowed now")
	if err != nil || !strings.Contains(out, "acknowledged ") || !strings.Contains(out, "over direct") {
		t.Fatalf("send --wait once allowed: %v\n%s", err, out)
	}
}
