package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// minimal is a complete policy: the error cases below append to it or
// replace parts of it.
const minimal = `
level "LOW" {
  web {
    step "tor" {}
  }
  p2p {
    step "i2p" {}
  }
}
level "MEDIUM" {
  web {
    step "tor" {}
  }
  p2p {
    step "i2p" {}
  }
}
level "HIGH" {
  web {
    step "tor" {}
  }
  p2p {
    step "i2p" {}
  }
}
level "VERYHIGH" {
  web {
    step "tor" {}
  }
  p2p {
    step "i2p" {}
  }
}
level "EXTREME" {
  web {
    step "tor" {}
  }
  p2p {
    step "i2p" {}
  }
}
level "NEO" {
  web {
    step "tor" {}
  }
  p2p {
    step "i2p" {}
  }
}
`

func TestMinimalParses(t *testing.T) {
	if _, err := Parse([]byte(minimal), "p.hcl"); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	// Each case: source, then substrings every one of which must appear in
	// the error, positions included.
	replaceNEO := func(body string) string {
		i := strings.Index(minimal, `level "NEO"`)
		return minimal[:i] + body
	}
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"syntax", "level \"LOW\" {\n", []string{"p.hcl:1:13", "Unclosed configuration block"}},
		{"unknown root key", minimal + "colour = \"red\"\n", []string{"p.hcl:50:1", "Unsupported argument"}},
		{"unknown block", minimal + "route {}\n", []string{"p.hcl:50:1", "Unsupported block type"}},
		{"unknown step key", replaceNEO("level \"NEO\" {\n  web {\n    step \"tor\" {\n      speed = 3\n    }\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n"),
			[]string{"p.hcl:45:7", `Unsupported argument; An argument named "speed"`}},
		{"unknown network", replaceNEO("level \"NEO\" {\n  web {\n    step \"tur\" {}\n  }\n  p2p {\n    step \"i2p\" {\n      via {\n        peer_has = [\"ipfs\"]\n      }\n    }\n  }\n}\n"),
			[]string{"p.hcl:44:10", `"tur" is not a network or class`, "p.hcl:49:20", `"ipfs" is not a network`, "2 problems"}},
		{"unknown level", strings.Replace(minimal, `"NEO"`, `"ULTRA"`, 1), []string{"p.hcl:42:7", `unknown ManCon level "ULTRA"`, "Missing levels", "NEO"}},
		{"duplicate level", minimal + "level \"LOW\" {\n  web {\n    step \"tor\" {}\n  }\n  p2p {\n    step \"tor\" {}\n  }\n}\n", []string{"p.hcl:50:1", "Duplicate level block", "p.hcl:2:1"}},
		{"missing catch-all", replaceNEO("level \"NEO\" {\n  web {\n    match = [\"*.i2p\"]\n    step \"i2p\" {}\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n"),
			[]string{"p.hcl:42:1", "Missing catch-all web route"}},
		{"unreachable route", replaceNEO("level \"NEO\" {\n  web {\n    step \"tor\" {}\n  }\n  web {\n    match = [\"*.i2p\"]\n    step \"i2p\" {}\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n"),
			[]string{"p.hcl:46:3", "Unreachable route", "p.hcl:43:3"}},
		{"empty chain", replaceNEO("level \"NEO\" {\n  web {}\n  p2p {\n    step \"i2p\" {}\n  }\n}\n"), []string{"p.hcl:43:3", "Empty chain"}},
		{"bad values", replaceNEO("level \"NEO\" {\n  budget = \"10s..4s\"\n  web {\n    hops = 99\n    copies = \"0\"\n    delay = \"soon\"\n    hold = 5\n    match = [\"[\"]\n    step \"tor\" {}\n  }\n  p2p {\n    on_failure = [\"site_down\", \"queue\"]\n    step \"i2p\" {}\n  }\n}\n"),
			[]string{"p.hcl:43:12", "minimum is larger", "p.hcl:45:12", `"99" is outside 0..16`, "p.hcl:46:14", "p.hcl:47:13", `"soon" is not a duration`, "p.hcl:48:12", "must be a string, not a number", "p.hcl:49:13", "Invalid match pattern", "p.hcl:53:18", "Unreachable on_failure action"}},
		{"bad on_failure", replaceNEO("level \"NEO\" {\n  web {\n    on_failure = \"retry\"\n    step \"tor\" {}\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n"), []string{"p.hcl:44:18", `"retry" is not one of`}},
		{"bad via", replaceNEO("level \"NEO\" {\n  web {\n    step \"tor\" {\n      via {\n        network = \"i2p\"\n        peer_mancon_below = \"LOW\"\n        discover = \"yes\"\n      }\n    }\n  }\n  p2p {\n    step \"i2p\" {}\n  }\n}\n"),
			[]string{"Network on first via", "No level is below LOW", "must be true or false"}},
		{"escalate", minimal + "escalate {\n  when_blocked = [\"tor\", \"carrier-pigeon\"]\n  to = \"HIGH\"\n}\nescalate {\n  when_blocked = [\"tor\"]\n}\n", []string{"p.hcl:51:18", `"carrier-pigeon"`, "p.hcl:54:10", `Missing required argument; The argument "to" is required`}},
		{"ratchet", minimal + "ratchet { decay_after = \"0s\" }\nratchet { decay_after = \"1h\" }\n", []string{"p.hcl:50:25", "longer than zero", "p.hcl:51:1", "Duplicate ratchet block"}},
		{"network declarations", minimal + "network \"tor\" { classes = [\"anonymous\"] }\nnetwork \"Bad_Name\" { classes = [] }\nnetwork \"mesh\" { classes = [\"fast\"] }\n", []string{"p.hcl:50:9", "built-in", "p.hcl:51:9", "Invalid network name", "p.hcl:52:28", "not a class"}},
		{"default_level", "default_level = \"MAX\"\n" + minimal, []string{"p.hcl:1:17", "Unknown level"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.src), "p.hcl")
			if err == nil || p != nil {
				t.Fatalf("accepted: %v", err)
			}
			var pe *Error
			var diags hcl.Diagnostics
			if !errors.As(err, &pe) || !errors.As(err, &diags) || !strings.HasPrefix(err.Error(), "policy: ") {
				t.Fatalf("error type %T: %v", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	i := strings.Index(minimal, `level "EXTREME"`)
	a := "network \"mesh\" { classes = [\"1dn\"] }\n" + minimal[:i]
	b := minimal[i:] + "escalate {\n  when_blocked = [\"mesh\"]\n  to = \"NEO\"\n}\n"
	fa, fb := filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")
	if err := os.WriteFile(fa, []byte(a), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fb, []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(fa, fb)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Expand("1dn"); strings.Join(got, ",") != "lan,direct,mesh" {
		t.Fatalf("1dn expands to %v", got)
	}
	if len(p.Escalations) != 1 || p.Escalations[0].Pos.Filename != fb {
		t.Fatalf("escalations %+v", p.Escalations)
	}
	// The same level in two files is an error naming both.
	_, err = Load(fa, fa, fb)
	if err == nil || !strings.Contains(err.Error(), "Duplicate level block") || !strings.Contains(err.Error(), fa+":3:1") {
		t.Fatalf("duplicate across files: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.hcl")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
