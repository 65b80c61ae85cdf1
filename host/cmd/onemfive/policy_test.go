package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	policy "github.com/onemfive/onemfive/policies"
)

// offline runs the CLI with a data dir that holds no daemon address, so a
// command that tried to reach the daemon would fail.
func offline(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
	code := a.main(context.Background(), append([]string{"--data-dir", t.TempDir()}, args...))
	return result{code, out.String(), errb.String()}
}

func TestPolicyUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"policy"}, {"policy", "frob"}, {"policy", "check", "--bogus"}, {"policy", "default", "x"},
		{"policy", "explain", "--kind", "web"}, // no destination
		{"policy", "explain", "--kind", "web", "a", "b"},
		{"policy", "explain", "--kind", "web", " "},
		{"policy", "explain", "example.org"}, // no --kind
		{"policy", "explain", "--kind", "mail", "x"},
		{"policy", "explain", "--kind", "web", "--level", "ULTRA", "x"},
		{"policy", "explain", "--kind", "web", "--base", "nope", "x"},
		{"policy", "explain", "--kind", "web", "--ratchet", "1", "x"},
		{"policy", "explain", "--kind", "web", "--blocked", "pigeon", "x"},
		{"policy", "explain", "--kind", "web", "--blocked", "tor", "--absent", "anonymous", "x"},
		{"policy", "explain", "--kind", "web", "--peer", "bob", "x"},
		{"policy", "explain", "--kind", "web", "--peer", "bob:", "x"},
		{"policy", "explain", "--kind", "web", "--peer", ":tor", "x"},
		{"policy", "explain", "--kind", "web", "--peer", "bob:pigeon", "x"},
		{"policy", "explain", "--kind", "web", "--peer", "bob:tor@ULTRA", "x"},
	} {
		r := offline(t, args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("%q: exit %d, want 2 with a message (stderr %q)", args, r.code, r.stderr)
		}
	}
	for _, args := range [][]string{{"policy", "help"}, {"policy", "check", "--help"}, {"policy", "explain", "-h"}, {"policy", "default", "--help"}} {
		if r := offline(t, args...); r.code != 0 || strings.Count(r.stdout, "usage: onemfive") != 1 {
			t.Errorf("%q: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	if r := offline(t, "policy", "explain", "--help"); !strings.Contains(r.stdout, "running daemon") || !strings.Contains(r.stdout, "--only-1dn") {
		t.Errorf("explain help does not say it is offline or lacks flags:\n%s", r.stdout)
	}
}

func TestPolicyCheck(t *testing.T) {
	if r := offline(t, "policy", "check"); r.code != 0 || r.stdout != "ok: 6 levels, 5 networks\n" {
		t.Fatalf("default: exit %d out %q err %q", r.code, r.stdout, r.stderr)
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "good.hcl")
	def := offline(t, "policy", "default")
	if def.code != 0 || !strings.Contains(def.stdout, `level "NEO"`) {
		t.Fatalf("policy default: %+v", def)
	}
	// A custom network declared in a second file counts.
	extra := filepath.Join(dir, "extra.hcl")
	os.WriteFile(good, []byte(def.stdout), 0o600)
	os.WriteFile(extra, []byte("network \"pigeon\" {\n  classes = [\"1dn\"]\n}\n"), 0o600)
	if r := offline(t, "policy", "check", good, extra); r.code != 0 || r.stdout != "ok: 6 levels, 6 networks\n" {
		t.Fatalf("good: exit %d out %q err %q", r.code, r.stdout, r.stderr)
	}

	bad := filepath.Join(dir, "bad.hcl")
	os.WriteFile(bad, []byte("default_level = \"HIGH\"\n\nlevel \"LOW\" {\n  web {\n    step \"pigeon\" {}\n  }\n  bogus = 1\n}\n"), 0o600)
	r := offline(t, "policy", "check", bad)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("bad: exit %d out %q", r.code, r.stdout)
	}
	for _, want := range []string{bad + ":5:10: Unknown network", bad + ":7:3: Unsupported argument", "bogus", "4 problems"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("bad: stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := offline(t, "policy", "check", filepath.Join(dir, "missing.hcl")); r.code != 1 || !strings.Contains(r.stderr, "missing.hcl") {
		t.Fatalf("missing: %+v", r)
	}
}

func TestPolicyExplain(t *testing.T) {
	// DESIGN.md, HIGH web: via I2P to a 1M5 peer that has Tor, which fetches.
	r := offline(t, "policy", "explain", "--kind", "web", "--level", "HIGH",
		"--peer", "did:key:zBob:tor,i2p@LOW", "--peer", "carol:i2p", "https://example.org/page")
	if r.code != 0 {
		t.Fatalf("all up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"networks: i2p ready, tor ready, lan ready, https ready, direct ready",
		"peers: did:key:zBob tor,i2p LOW; carol i2p",
		"level HIGH web",
		"route 1: i2p hops=1 delay=0s copies=1 -> peer{over i2p, tor: did:key:zBob}",
		"on failure: site_down",
		`catch-all for "example.org"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("all up: lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "route 2") {
		t.Errorf("all up: HIGH web has one route:\n%s", r.stdout)
	}

	// Tor and I2P blocked: the default policy escalates to EXTREME, whose
	// web chain goes over 1DN to find a Tor peer at a lower level.
	r = offline(t, "policy", "explain", "--kind", "web", "--level", "HIGH", "--blocked", "tor,i2p",
		"--peer", "did:key:zBob:tor,i2p@LOW", "https://example.org/page")
	if r.code != 0 {
		t.Fatalf("blocked: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"networks: i2p blocked, tor blocked",
		"level EXTREME web",
		"route 1: lan hops=2",
		"ManCon below EXTREME: discover",
		"blocks EXTREME (tor blocked (--blocked), i2p blocked (--blocked)",
		"on failure: queue",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("blocked: lacks %q:\n%s", want, r.stdout)
		}
	}

	// No peer known: no route at HIGH, exit 1 with the explanation.
	r = offline(t, "policy", "explain", "--kind", "web", "--level", "high", "example.org")
	if r.code != 1 || !strings.Contains(r.stdout, "skip i2p at policies/default.hcl:") ||
		!strings.Contains(r.stdout, "no known peer over i2p with tor") ||
		!strings.Contains(r.stderr, "no usable route") || !strings.Contains(r.stderr, "--peer") {
		t.Fatalf("no route: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// --only-1dn with escalation from the base level: EXTREME p2p over lan.
	r = offline(t, "policy", "explain", "--kind", "p2p", "--base", "EXTREME", "--only-1dn", "did:key:zCarol")
	if r.code != 0 || !strings.Contains(r.stdout, "networks: i2p absent, tor absent, lan ready, https absent, direct ready") ||
		!strings.Contains(r.stdout, "route 1: lan hops=3") {
		t.Fatalf("only-1dn: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// LOW p2p with I2P bootstrapping and Tor absent (given as a class).
	r = offline(t, "policy", "explain", "--kind", "service", "--level", "LOW", "--bootstrapping", "i2p", "--absent", "tor", "chat")
	if r.code != 0 || !strings.Contains(r.stdout, "route 1: i2p (bootstrapping)") || !strings.Contains(r.stdout, "skip tor at") ||
		!strings.Contains(r.stdout, "service traffic routes as p2p") {
		t.Fatalf("bootstrapping: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestPolicyExplainJSON(t *testing.T) {
	r := offline(t, "policy", "explain", "--json", "--kind", "web", "--level", "VERYHIGH", "--blocked", "i2p",
		"--peer", "bob:tor@LOW", "example.org")
	var out explainOut
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		t.Fatalf("exit %d out %q err %q", r.code, r.stdout, r.stderr)
	}
	if out.Networks["i2p"] != "blocked" || out.Networks["tor"] != "ready" || len(out.Peers) != 1 || out.Peers[0].ManCon != "LOW" {
		t.Fatalf("state: %+v", out)
	}
	p := out.Plan
	if p.Level != "VERYHIGH" || p.Kind != "web" || p.Budget != "6s..16s" || len(p.Routes) < 1 || out.NoRoute {
		t.Fatalf("plan: %+v", p)
	}
	rt := p.Routes[0]
	if rt.Network != "tor" || rt.Hops != "2" || rt.Delay != "4s..10s" || len(rt.Via) != 1 ||
		rt.Via[0].PeerManConBelow != "VERYHIGH" || strings.Join(rt.Via[0].Candidates, ",") != "bob" {
		t.Fatalf("route: %+v", rt)
	}

	r = offline(t, "policy", "explain", "--json", "--kind", "web", "--level", "HIGH", "example.org")
	if r.code != 1 || json.Unmarshal([]byte(r.stdout), &out) != nil || !out.NoRoute || len(out.Plan.Routes) != 0 ||
		!strings.Contains(out.Error, "no usable route") || len(out.Plan.Explain) == 0 {
		t.Fatalf("no route json: exit %d out %q", r.code, r.stdout)
	}
}

func TestPolicyExplainCustomPolicy(t *testing.T) {
	dir := t.TempDir()
	def := offline(t, "policy", "default").stdout
	// The same policy with LOW's catch-all web route on clearnet.
	custom := strings.Replace(def, "  web {\n    step \"tor\" {}\n    on_failure = \"site_down\"\n  }",
		"  web {\n    step \"https\" {}\n    on_failure = \"site_down\"\n  }", 1)
	if custom == def {
		t.Fatal("default policy changed shape; fix the test's replacement")
	}
	f := filepath.Join(dir, "p.hcl")
	os.WriteFile(f, []byte(custom), 0o600)
	r := offline(t, "policy", "explain", "--policy", f, "--kind", "web", "--level", "LOW", "example.org")
	if r.code != 0 || !strings.Contains(r.stdout, "route 1: https") || !strings.Contains(r.stdout, f+":") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(f, []byte("level {"), 0o600)
	if r := offline(t, "policy", "explain", "--policy", f, "--kind", "web", "x"); r.code != 1 || !strings.Contains(r.stderr, f+":1:") {
		t.Fatalf("bad policy: %+v", r)
	}
}

func FuzzParsePeer(f *testing.F) {
	for _, s := range []string{"bob:tor,i2p@LOW", "did:key:z6Mk:i2p", "x:anonymous@neo", "bob", ":tor", "a:b:c@", "@@:,", "bob:tor,,i2p"} {
		f.Add(s)
	}
	p := policy.Default()
	f.Fuzz(func(t *testing.T, s string) {
		peer, err := parsePeer(p, s)
		if err != nil {
			return
		}
		if peer.ID == "" || len(peer.Networks) == 0 || !peer.ManCon.Valid() {
			t.Fatalf("%q: accepted %+v", s, peer)
		}
		for _, n := range peer.Networks {
			if !contains(p.Networks(), n) {
				t.Fatalf("%q: unknown network %q accepted", s, n)
			}
		}
	})
}
