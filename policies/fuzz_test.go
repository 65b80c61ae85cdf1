package policy

import (
	"testing"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// FuzzParse checks that no input makes Parse panic, that errors and
// policies are never returned together, and that any accepted policy can be
// evaluated for every level and kind without panicking.
func FuzzParse(f *testing.F) {
	f.Add(defaultHCL)
	f.Add([]byte(minimal))
	f.Add([]byte("level \"LOW\" {\n  web {\n    hops = \"3..1\"\n    step \"1dn\" {\n      via {\n        discover = true\n      }\n    }\n  }\n}\n"))
	f.Add([]byte("network \"mesh\" { classes = [\"1dn\", \"anonymous\"] }\nescalate {\n  when_blocked = [\"mesh\"]\n  to = \"NEO\"\n}\n"))
	f.Add([]byte("ratchet { decay_after = \"90d\" }\ndefault_level = \"neo\"\n"))
	f.Add([]byte(blocks("LOW..HIGH", "veryhigh", "EXTREME..NEO")))
	f.Add([]byte(blocks("LOW..MEDIUM", "MEDIUM..NEO", "HIGH..LOW", "..", "LOW..ULTRA")))
	st := State{Networks: map[string]NetState{"i2p": {Status: Blocked}, "lan": {Status: Ready}, "tor": {Status: Bootstrapping}},
		Peers: []Peer{{ID: "a", Networks: []string{"lan", "tor"}, ManCon: envelope.LOW}}}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src, "fuzz.hcl")
		if err != nil {
			if p != nil {
				t.Fatal("policy and error both returned")
			}
			_ = err.Error()
			return
		}
		for m := envelope.LOW; m <= envelope.NEO; m++ {
			for _, k := range []envelope.Kind{envelope.KindWeb, envelope.KindP2P} {
				pl, _ := Evaluate(p, Request{Kind: k, To: "http://x.i2p/", ManCon: m}, st)
				if pl.Level < m {
					t.Fatalf("effective %s below requested %s", pl.Level, m)
				}
				_ = pl.String()
			}
		}
	})
}

// FuzzLevelLabel checks parseLevelLabel: never a panic, levels or problems
// but not both, problem bytes inside the label, and an accepted range that
// reads back the same when written out with canonical names.
func FuzzLevelLabel(f *testing.F) {
	for _, s := range []string{"HIGH", "LOW..HIGH", "neo..NEO", "HIGH..LOW", "LOW..", "..", "LO..HI", " low .. high ", "LOW..MEDIUM..HIGH", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, probs := parseLevelLabel(s)
		if len(probs) > 0 {
			if lo != envelope.ManConUnset || hi != envelope.ManConUnset {
				t.Fatalf("%q: problems and %s..%s", s, lo, hi)
			}
			for _, p := range probs {
				if p.start >= 0 && (p.start > p.end || p.end > len(s)) || p.start < 0 && p.end != -1 || p.summary == "" || p.detail == "" {
					t.Fatalf("%q: bad problem %+v", s, p)
				}
			}
			return
		}
		if lo < envelope.LOW || lo > hi || hi > envelope.NEO {
			t.Fatalf("%q: accepted %s..%s", s, lo, hi)
		}
		if lo2, hi2, p2 := parseLevelLabel(lo.String() + ".." + hi.String()); lo2 != lo || hi2 != hi || p2 != nil {
			t.Fatalf("%q: %s..%s reads back as %s..%s %+v", s, lo, hi, lo2, hi2, p2)
		}
	})
}
