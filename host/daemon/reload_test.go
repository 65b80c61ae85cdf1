package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/client"
)

// TestPolicyLiveEdit edits a running daemon's policy file: a broken edit is
// refused with its position (an API event) and the old policy stays; a good
// edit, or SIGHUP, applies without a restart.
func TestPolicyLiveEdit(t *testing.T) {
	src, err := os.ReadFile("testdata/policy/veil.hcl")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "policy.hcl")
	if err := os.WriteFile(file, src, 0o600); err != nil {
		t.Fatal(err)
	}
	h := hosttest.NewHost(t, "P", hosttest.Options{Config: fmt.Sprintf("mancon = \"LOW\"\npolicies = [%q]", file)})
	h.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	evs, errs := h.C.Events(ctx, h.Status().InboxLastSeq)
	next := func(kind string) client.Event {
		t.Helper()
		for {
			select {
			case ev, ok := <-evs:
				if !ok {
					t.Fatalf("event stream ended: %v", <-errs)
				}
				if ev.Type == client.EventMancon && ev.Data["kind"] == kind {
					return ev
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", kind)
			}
		}
	}
	touch := func(b []byte) {
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Duration(time.Now().UnixNano()%1000+1) * time.Second)
		os.Chtimes(file, later, later) // a new mtime even within the same second
	}

	broken := strings.Replace(string(src), `classes = ["anonymous"]`, `classes = ["anonymus"]`, 1)
	touch([]byte(broken))
	ev := next("reload_failed")
	if msg, _ := ev.Data["error"].(string); !strings.Contains(msg, "policy.hcl:") {
		t.Fatalf("refusal does not give the position: %+v", ev)
	}
	if mc, err := h.C.ManCon(ctx); err != nil || mc.Base != "LOW" {
		t.Fatalf("after a refused edit: %+v %v", mc, err)
	}

	// Fixed: the default level in the file changes, and applies at once.
	touch([]byte(strings.Replace(string(src), `default_level = "LOW"`, `default_level = "MEDIUM"`, 1)))
	next("reload")
	ex, err := h.C.Explain(ctx, "p2p", "someone", "")
	if err != nil || ex.Level != "LOW" { // the base (LOW) still rules over the policy default
		t.Fatalf("explain after reload: %+v %v", ex, err)
	}

	// SIGHUP reloads too.
	if err := syscall.Kill(h.PID(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	next("reload")
}
