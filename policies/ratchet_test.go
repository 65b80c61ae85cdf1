package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/envelope"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func TestRatchetClimbsAndDecays(t *testing.T) {
	p := Default() // decay_after = "6h"
	r := NewRatchet(p, envelope.LOW)
	if r.Level() != envelope.LOW {
		t.Fatalf("start %s", r.Level())
	}
	c, ok := r.Block("tor", t0, "relay handshake reset")
	if !ok || c.From != envelope.LOW || c.To != envelope.HIGH || !strings.Contains(c.Cause, "tor blocked since 2025-03-01T10:00:00Z (relay handshake reset)") || !strings.Contains(c.Cause, "default.hcl:") {
		t.Fatalf("tor block: %v %v", c, ok)
	}
	// The same block again changes nothing.
	if _, ok := r.Block("tor", t0.Add(time.Minute), "again"); ok {
		t.Fatal("repeated block climbed")
	}
	c, ok = r.Block("i2p", t0.Add(2*time.Minute), "no tunnels")
	if !ok || c.To != envelope.EXTREME {
		t.Fatalf("both blocked: %v %v", c, ok)
	}
	// Blocks clear; the level stays.
	r.Ready("tor", t0.Add(time.Hour))
	r.Ready("i2p", t0.Add(time.Hour))
	if r.Level() != envelope.EXTREME || len(r.Blocked()) != 0 {
		t.Fatalf("after ready: %s %v", r.Level(), r.Blocked())
	}
	// Success must last decay_after before each step down.
	s := t0.Add(2 * time.Hour)
	if _, ok := r.Success("i2p", s); ok {
		t.Fatal("first success stepped down")
	}
	if _, ok := r.Success("i2p", s.Add(5*time.Hour)); ok {
		t.Fatal("stepped down before decay_after")
	}
	c, ok = r.Success("i2p", s.Add(6*time.Hour))
	if !ok || c.From != envelope.EXTREME || c.To != envelope.VERYHIGH || !strings.Contains(c.Cause, "6h") {
		t.Fatalf("decay: %v %v", c, ok)
	}
	// A new block resets the success clock.
	r.Block("https", s.Add(7*time.Hour), "reset")
	if _, ok := r.Success("i2p", s.Add(13*time.Hour)); ok {
		t.Fatal("success clock survived a block")
	}
	for h := 19; h <= 40; h += 6 {
		r.Success("i2p", s.Add(time.Duration(h)*time.Hour))
	}
	if r.Level() != envelope.LOW {
		t.Fatalf("never decayed to base: %s", r.Level())
	}
	if _, ok := r.Success("i2p", s.Add(100*time.Hour)); ok {
		t.Fatal("decayed below base")
	}
}

func TestRatchetFloorIsCurrentBlocks(t *testing.T) {
	r := NewRatchet(Default(), envelope.LOW)
	r.Block("tor", t0, "x")
	r.Block("i2p", t0, "y")
	r.Ready("tor", t0.Add(time.Minute)) // i2p still blocked: VERYHIGH floor
	for h := 1; h < 100; h += 7 {
		r.Success("lan", t0.Add(time.Duration(h)*time.Hour))
	}
	if r.Level() != envelope.VERYHIGH {
		t.Fatalf("level %s, want VERYHIGH while i2p is blocked", r.Level())
	}
}

func TestRatchetBase(t *testing.T) {
	r := NewRatchet(Default(), envelope.ManConUnset)
	if r.Level() != envelope.HIGH {
		t.Fatalf("unset base: %s", r.Level())
	}
	if c, ok := r.SetBase(envelope.EXTREME, t0); !ok || c.To != envelope.EXTREME {
		t.Fatalf("raise: %v", c)
	}
	if _, ok := r.SetBase(envelope.LOW, t0); ok || r.Level() != envelope.EXTREME {
		t.Fatal("lowering the base dropped the level at once")
	}
}

// TestRatchetDeterministic replays one event list twice.
func TestRatchetDeterministic(t *testing.T) {
	run := func() string {
		r := NewRatchet(Default(), envelope.MEDIUM)
		var out []string
		add := func(c Change, ok bool) {
			if ok {
				out = append(out, c.String())
			}
		}
		add(r.Block("i2p", t0, "a"))
		add(r.Block("tor", t0.Add(time.Second), "b"))
		r.Ready("i2p", t0.Add(time.Hour))
		r.Ready("tor", t0.Add(time.Hour))
		for h := 2; h < 40; h++ {
			add(r.Success("i2p", t0.Add(time.Duration(h)*time.Hour)))
		}
		return strings.Join(out, "\n")
	}
	a, b := run(), run()
	if a != b || strings.Count(a, "\n") != 4 {
		t.Fatalf("runs differ or wrong count:\n%s\n---\n%s", a, b)
	}
}
