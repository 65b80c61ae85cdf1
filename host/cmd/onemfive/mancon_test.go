package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestManConUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"mancon"}, {"mancon", "frob"}, {"mancon", "recommend"}, {"mancon", "recommend", "--bogus", "NO"},
		{"mancon", "get", "x"}, {"mancon", "set"}, {"mancon", "set", "ULTRA"}, {"mancon", "set", "LOW", "HIGH"},
	} {
		r := offline(t, args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("%q: exit %d, want 2 with a message (stderr %q)", args, r.code, r.stderr)
		}
	}
	for _, args := range [][]string{{"mancon", "help"}, {"mancon", "recommend", "--help"}, {"mancon", "set", "-h"}, {"mancon", "get", "--help"}} {
		if r := offline(t, args...); r.code != 0 || strings.Count(r.stdout, "usage: onemfive") != 1 {
			t.Errorf("%q: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
}

func TestManConRecommend(t *testing.T) {
	for _, c := range []struct {
		args                 []string
		level, country, iso2 string
	}{
		{[]string{"Norway"}, "LOW", "Norway", "NO"},
		{[]string{"US"}, "MEDIUM", "United States", "US"},
		{[]string{"united", "states"}, "MEDIUM", "United States", "US"},
		{[]string{"China"}, "EXTREME", "China", "CN"},
		{[]string{"chn"}, "EXTREME", "China", "CN"},
	} {
		r := offline(t, append([]string{"mancon", "recommend"}, c.args...)...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, c.level+"\n") ||
			!strings.Contains(r.stdout, "country: "+c.country+" ("+c.iso2+")") ||
			!strings.Contains(r.stdout, "RSF World Press Freedom Index 2020") {
			t.Errorf("%q: exit %d\n%s%s", c.args, r.code, r.stdout, r.stderr)
		}
	}
	r := offline(t, "mancon", "recommend", "--json", "NO")
	var out recommendOut
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.Level != "LOW" || out.ISO2 != "NO" ||
		out.Year != 2020 || out.Category != "good" || !strings.HasPrefix(out.URL, "https://rsf.org/") {
		t.Fatalf("json: exit %d %q %+v", r.code, r.stdout, out)
	}
	r = offline(t, "mancon", "recommend", "Atlantis")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, `"Atlantis"`) || !strings.Contains(r.stderr, "ISO 3166-1") {
		t.Fatalf("unknown: %+v", r)
	}
}

func TestManConGetSet(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "", "mancon", "get")
	if r.code != 0 || !strings.Contains(r.stdout, "effective: EXTREME") || !strings.Contains(r.stdout, "network tor      blocked (bootstrap stuck)") {
		t.Fatalf("get: %+v", r)
	}
	r = e.run(t, "", "mancon", "set", "veryhigh")
	if r.code != 0 || !strings.Contains(r.stdout, "base:      VERYHIGH") {
		t.Fatalf("set: %+v", r)
	}
	if r := e.run(t, "", "mancon", "set", "ultra"); r.code != 2 {
		t.Fatalf("bad level: %+v", r)
	}
	// Without a daemon the commands fail with the reason.
	if r := offline(t, "mancon", "get"); r.code != 1 || r.stderr == "" {
		t.Fatalf("offline get: %+v", r)
	}
}

func TestPolicyExplainLive(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "", "policy", "explain", "--live", "--kind", "web", "example.org")
	if r.code != 0 || !strings.Contains(r.stdout, "route 1: direct to example.org") || !strings.Contains(r.stdout, "  - live") {
		t.Fatalf("live explain: %+v", r)
	}
}
