package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// levelBody is minimal's level body; block puts it under a label. Each
// block is 8 lines, so the n-th block of a source starts at line 8n+1.
const levelBody = "{\n  web {\n    step \"tor\" {}\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n"

func blocks(labels ...string) string {
	var b strings.Builder
	for _, l := range labels {
		b.WriteString("level \"" + l + "\" " + levelBody)
	}
	return b.String()
}

func TestParseLevelLabel(t *testing.T) {
	for _, tc := range []struct {
		label  string
		lo, hi envelope.ManCon
		want   string // summary of the first problem; "" when valid
		at     [2]int // its bytes in the label
	}{
		{label: "HIGH", lo: envelope.HIGH, hi: envelope.HIGH},
		{label: "neo", lo: envelope.NEO, hi: envelope.NEO},
		{label: "LOW..HIGH", lo: envelope.LOW, hi: envelope.HIGH},
		{label: "veryhigh..Neo", lo: envelope.VERYHIGH, hi: envelope.NEO},
		{label: "LOW .. MEDIUM", lo: envelope.LOW, hi: envelope.MEDIUM},
		{label: "EXTREME..EXTREME", lo: envelope.EXTREME, hi: envelope.EXTREME},
		{label: "", want: "Missing level name", at: [2]int{-1, -1}},
		{label: "ULTRA", want: "Unknown level", at: [2]int{-1, -1}},
		{label: "LOW..ULTRA", want: "Unknown level", at: [2]int{5, 10}},
		{label: " LOWW ..HIGH", want: "Unknown level", at: [2]int{1, 5}},
		{label: "LOW..", want: "Incomplete level range", at: [2]int{-1, -1}},
		{label: "..NEO", want: "Incomplete level range", at: [2]int{-1, -1}},
		{label: "..", want: "Incomplete level range", at: [2]int{-1, -1}},
		{label: "HIGH..LOW", want: "Reversed level range", at: [2]int{-1, -1}},
		{label: "LOW..MEDIUM..HIGH", want: "Invalid level range", at: [2]int{-1, -1}},
	} {
		lo, hi, probs := parseLevelLabel(tc.label)
		if tc.want == "" {
			if len(probs) != 0 || lo != tc.lo || hi != tc.hi {
				t.Errorf("%q: got %s..%s %+v, want %s..%s", tc.label, lo, hi, probs, tc.lo, tc.hi)
			}
			continue
		}
		if len(probs) == 0 || probs[0].summary != tc.want || [2]int{probs[0].start, probs[0].end} != tc.at {
			t.Errorf("%q: got %+v, want %q at %v", tc.label, probs, tc.want, tc.at)
		}
		if lo != envelope.ManConUnset || hi != envelope.ManConUnset {
			t.Errorf("%q: problems and levels %s..%s both returned", tc.label, lo, hi)
		}
	}
	// Both ends unknown: both reported, each at its own bytes.
	if _, _, probs := parseLevelLabel("LO..HI"); len(probs) != 2 || probs[0].start != 0 || probs[0].end != 2 || probs[1].start != 4 || probs[1].end != 6 {
		t.Errorf("LO..HI: %+v", probs)
	}
}

func TestLevelRangeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
		n    int // number of problems
	}{
		{"unknown in range", blocks("LOW..ULTRA", "VERYHIGH..NEO"),
			[]string{"p.hcl:1:13", `Unknown level; In range "LOW..ULTRA": unknown ManCon level "ULTRA"`, "Missing levels", "missing: LOW, MEDIUM, HIGH."}, 2},
		{"both ends unknown", blocks("LO..HI", "LOW..NEO"), []string{"p.hcl:1:8", `"LO"`, "p.hcl:1:12", `"HI"`}, 2},
		{"escaped label", "level \"\\u004cOW..ULTRA\" " + levelBody + blocks("MEDIUM..NEO"), []string{"p.hcl:1:7", `"ULTRA"`}, 2},
		{"incomplete", blocks("LOW..", "MEDIUM..NEO"), []string{"p.hcl:1:7", `Incomplete level range; "LOW.." needs a level on each side`, "missing: LOW."}, 2},
		{"empty range", blocks("..", "LOW..NEO"), []string{"p.hcl:1:7", "Incomplete level range"}, 1},
		{"empty name", blocks("", "LOW..NEO"), []string{"p.hcl:1:7", "Missing level name"}, 1},
		{"reversed", blocks("HIGH..LOW", "VERYHIGH..NEO"), []string{"p.hcl:1:7", `Reversed level range; "HIGH..LOW" runs from HIGH down to LOW`, `write "LOW..HIGH"`, "missing: LOW, MEDIUM, HIGH."}, 2},
		{"two dots twice", blocks("LOW..MEDIUM..HIGH", "LOW..NEO"), []string{"p.hcl:1:7", "Invalid level range"}, 1},
		{"alone then in range", blocks("LOW", "LOW..NEO"),
			[]string{"p.hcl:9:1", `Duplicate level block; Level LOW was already defined at p.hcl:1:1 by level "LOW".`}, 1},
		{"in range then alone", blocks("LOW..NEO", "HIGH"),
			[]string{"p.hcl:9:1", `Duplicate level block; Level HIGH was already defined at p.hcl:1:1 by level "LOW..NEO".`}, 1},
		{"two ranges", blocks("LOW..HIGH", "MEDIUM..NEO"),
			[]string{"p.hcl:9:1", `Levels MEDIUM, HIGH were already defined at p.hcl:1:1 by level "LOW..HIGH".`}, 1},
		{"range over two blocks", blocks("LOW", "MEDIUM..HIGH", "LOW..NEO"),
			[]string{"p.hcl:17:1", "Level LOW was already defined at p.hcl:1:1", `Levels MEDIUM, HIGH were already defined at p.hcl:9:1 by level "MEDIUM..HIGH".`}, 2},
		{"not covered", blocks("LOW..HIGH", "VERYHIGH"), []string{"p.hcl:1:1", "Missing levels", "missing: EXTREME, NEO."}, 1},
		{"range without catch-all", "level \"LOW..NEO\" {\n  web {\n    match = [\"*.i2p\"]\n    step \"i2p\" {}\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n",
			[]string{"p.hcl:1:1", "Missing catch-all web route; Levels LOW..NEO need a web block without match"}, 1},
		{"range body decoded once", "level \"LOW..NEO\" {\n  web {\n    step \"tur\" {}\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n",
			[]string{"p.hcl:3:10", `"tur" is not a network`}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.src), "p.hcl")
			var pe *Error
			if p != nil || !errors.As(err, &pe) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if got := len(pe.Diagnostics.Errs()); got != tc.n {
				t.Errorf("%d problems, want %d:\n%v", got, tc.n, err)
			}
		})
	}
}

// meaning returns a copy of p with every position cleared, so that two
// spellings of one policy compare equal with reflect.DeepEqual.
func meaning(p *Policy) *Policy {
	cp := *p
	cp.Escalations = nil
	for _, e := range p.Escalations {
		e.Pos = hcl.Range{}
		cp.Escalations = append(cp.Escalations, e)
	}
	routes := func(rs []*Route) []*Route {
		var out []*Route
		for _, r := range rs {
			rc := *r
			rc.Pos, rc.Steps = hcl.Range{}, nil
			for _, s := range r.Steps {
				sc := *s
				sc.Pos, sc.Via = hcl.Range{}, nil
				for _, v := range s.Via {
					vc := *v
					vc.Pos = hcl.Range{}
					sc.Via = append(sc.Via, &vc)
				}
				rc.Steps = append(rc.Steps, &sc)
			}
			out = append(out, &rc)
		}
		return out
	}
	for m, l := range p.Levels {
		if l == nil {
			continue
		}
		lc := *l
		lc.Pos, lc.Web, lc.P2P = hcl.Range{}, routes(l.Web), routes(l.P2P)
		cp.Levels[m] = &lc
	}
	return &cp
}

// differences lists, level by level, where a and b do not route alike or
// disagree on anything else; none means the same policy.
func differences(a, b *Policy) []string {
	ma, mb := meaning(a), meaning(b)
	if reflect.DeepEqual(ma, mb) {
		return nil
	}
	var out []string
	for m := envelope.LOW; m <= envelope.NEO; m++ {
		if !reflect.DeepEqual(ma.Levels[m], mb.Levels[m]) {
			ja, _ := json.MarshalIndent(ma.Levels[m], "", " ")
			jb, _ := json.MarshalIndent(mb.Levels[m], "", " ")
			out = append(out, fmt.Sprintf("level %s differs:\n%s\nvs\n%s", m, ja, jb))
		}
	}
	ma.Levels, mb.Levels = [envelope.NEO + 1]*Level{}, [envelope.NEO + 1]*Level{}
	if !reflect.DeepEqual(ma, mb) {
		out = append(out, fmt.Sprintf("default level, escalations, decay or networks differ:\n%+v\nvs\n%+v", ma, mb))
	}
	return out
}

func sameMeaning(t *testing.T, a, b *Policy) {
	t.Helper()
	for _, d := range differences(a, b) {
		t.Error(d)
	}
}

func TestLevelRangeMeansSpelledOut(t *testing.T) {
	spelled, err := Parse([]byte(minimal), "a.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for _, labels := range [][]string{
		{"LOW..NEO"},
		{"low..medium", "HIGH", "VERYHIGH..NEO"},
		{"EXTREME..NEO", "LOW..LOW", "MEDIUM..VERYHIGH"},
	} {
		src := blocks(labels...)
		p, err := Parse([]byte(src), "b.hcl")
		if err != nil {
			t.Fatalf("%v: %v", labels, err)
		}
		sameMeaning(t, spelled, p)
		for m := envelope.LOW; m <= envelope.NEO; m++ {
			l := p.Levels[m]
			if l.ManCon != m {
				t.Errorf("%v: Levels[%s].ManCon = %s", labels, m, l.ManCon)
			}
			if m > envelope.LOW && l == p.Levels[m-1] {
				t.Errorf("%v: %s and %s share one *Level", labels, m-1, m)
			}
			// Pos is the block's: line 8i+1 for the i-th label.
			i := 0
			for ; i < len(labels); i++ {
				lo, hi, _ := parseLevelLabel(labels[i])
				if lo <= m && m <= hi {
					break
				}
			}
			if l.Pos.Filename != "b.hcl" || l.Pos.Start.Line != 8*i+1 || l.Pos.Start.Column != 1 {
				t.Errorf("%v: %s at %s, want b.hcl:%d:1", labels, m, Pos(l.Pos), 8*i+1)
			}
		}
	}
	// Guard against a comparison that ignores too much.
	other, err := Parse([]byte(strings.Replace(minimal, `step "i2p"`, `step "tor"`, 1)), "c.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if d := differences(spelled, other); len(d) != 1 || !strings.HasPrefix(d[0], "level LOW differs") {
		t.Errorf("a changed p2p step at LOW: %q", d)
	}
}

// TestMergedTestPolicies loads the test policies of the daemon and the
// plugins, whose identical level blocks were merged into ranges, and checks
// each means exactly what its six-block version (kept in testdata/legacy)
// meant. Those files' own tests need tor, i2pd or network namespaces; this
// one does not.
func TestMergedTestPolicies(t *testing.T) {
	for _, file := range []string{
		"../host/daemon/testdata/policy/veil.hcl",
		"../plugins/i2p/i2p/testdata/i2p-only.hcl",
		"../plugins/lan/testdata/onehop.hcl",
		"../plugins/tor/tor/testdata/tor-only.hcl",
	} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			merged, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			legacy, err := Load(filepath.Join("testdata", "legacy", filepath.Base(file)))
			if err != nil {
				t.Fatal(err)
			}
			for m := envelope.LOW; m <= envelope.NEO; m++ {
				if l := merged.Levels[m]; l == nil || l.ManCon != m || l.Pos.Filename != file {
					t.Errorf("level %s: %+v", m, l)
				}
			}
			sameMeaning(t, legacy, merged)
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(src), "\nlevel \""); n >= 6 {
				t.Errorf("%d level blocks: not merged", n)
			}
		})
	}
}

func TestLoadRangesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	fa, fb := filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")
	if err := os.WriteFile(fa, []byte(blocks("LOW..HIGH")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fb, []byte(blocks("VERYHIGH..NEO")), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(fa, fb)
	if err != nil {
		t.Fatal(err)
	}
	if p.Levels[envelope.HIGH].Pos.Filename != fa || p.Levels[envelope.VERYHIGH].Pos.Filename != fb {
		t.Fatalf("positions %s %s", Pos(p.Levels[envelope.HIGH].Pos), Pos(p.Levels[envelope.VERYHIGH].Pos))
	}
	_, err = Load(fa, fb, fa)
	if err == nil || !strings.Contains(err.Error(), fa+":1:1: Duplicate level block; Levels LOW, MEDIUM, HIGH were already defined at "+fa+":1:1 by level \"LOW..HIGH\"") {
		t.Fatalf("duplicate range across files: %v", err)
	}
}
