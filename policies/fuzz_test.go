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
