package mancon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/envelope"
)

const testPolicy = `
default_level = "LOW"
network "veil" {
  classes = ["anonymous"]
}
escalate {
  when_blocked = ["veil"]
  to = "EXTREME"
}
`

// writePolicy writes the default policy plus a test network and escalation.
func writePolicy(t *testing.T, dir string) (string, string) {
	t.Helper()
	base := filepath.Join(dir, "a-default.hcl")
	extra := filepath.Join(dir, "b-veil.hcl")
	src := strings.Replace(string(policy.DefaultSource()), `default_level = "HIGH"`, "", 1)
	if err := os.WriteFile(base, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(extra, []byte(testPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	return base, extra
}

type recorder struct {
	mu  sync.Mutex
	evs []Event
}

func (r *recorder) add(e Event) { r.mu.Lock(); r.evs = append(r.evs, e); r.mu.Unlock() }

func TestEscalationAndReload(t *testing.T) {
	dir := t.TempDir()
	_, extra := writePolicy(t, dir)
	var rec recorder
	e, err := New(Options{Files: []string{filepath.Join(dir, "*.hcl")}, Base: envelope.LOW, Notify: rec.add})
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Snapshot(); s.Effective != envelope.LOW || len(s.Files) != 2 {
		t.Fatalf("snapshot %+v", s)
	}
	e.Network("veil", policy.Blocked, "handshake reset")
	s := e.Snapshot()
	if s.Effective != envelope.EXTREME || len(rec.evs) != 1 || rec.evs[0].Kind != EventLevel || !strings.Contains(rec.evs[0].Cause, "veil") {
		t.Fatalf("after block: %+v events %+v", s, rec.evs)
	}
	// Ready again: the level stays up until verified success decays it.
	e.Network("veil", policy.Ready, "")
	if e.Snapshot().Effective != envelope.EXTREME {
		t.Fatal("level dropped on ready")
	}

	// A broken edit is refused with its position; the old policy stays.
	if err := os.WriteFile(extra, []byte("network \"veil\" {\n  classes = [\"nope\"]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = e.Reload()
	if err == nil || !strings.Contains(err.Error(), "b-veil.hcl:2:") {
		t.Fatalf("broken reload: %v", err)
	}
	last := rec.evs[len(rec.evs)-1]
	if last.Kind != EventReloadFailed || e.Snapshot().Effective != envelope.EXTREME {
		t.Fatalf("after broken reload: %+v", last)
	}
	// A good edit applies; the climbed level is kept.
	if err := os.WriteFile(extra, []byte(testPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	if e.Snapshot().Effective != envelope.EXTREME {
		t.Fatal("reload dropped the climbed level")
	}
}

func TestWatchReloads(t *testing.T) {
	dir := t.TempDir()
	_, extra := writePolicy(t, dir)
	reloaded := make(chan Event, 4)
	e, err := New(Options{Files: []string{filepath.Join(dir, "*.hcl")}, Base: envelope.LOW,
		Notify: func(ev Event) { reloaded <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Watch(ctx, 20*time.Millisecond)
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(extra, later, later); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-reloaded:
		if ev.Kind != EventReload {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reload after the file changed")
	}
}

func TestNewRefusesBadPolicy(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(Options{Files: []string{filepath.Join(dir, "*.hcl")}}); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Fatalf("no files: %v", err)
	}
	bad := filepath.Join(dir, "x.hcl")
	os.WriteFile(bad, []byte("level \"HIGH\" {\n  bogus = 1\n}\n"), 0o600)
	if _, err := New(Options{Files: []string{bad}}); err == nil || !strings.Contains(err.Error(), "x.hcl:") {
		t.Fatalf("bad file: %v", err)
	}
}

func TestPlanUsesLiveState(t *testing.T) {
	e, err := New(Options{Base: envelope.HIGH})
	if err != nil {
		t.Fatal(err)
	}
	e.Network("direct", policy.Ready, "")
	req := policy.Request{Kind: envelope.KindP2P, To: "peer"}
	pl, err := e.Plan(req, []policy.Peer{{ID: "peer", Networks: []string{"direct"}}})
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, pl)
	}
	if len(pl.Routes) == 0 || pl.Routes[0].Network != "direct" || pl.Level != envelope.HIGH {
		t.Fatalf("plan:\n%s", pl)
	}
}
