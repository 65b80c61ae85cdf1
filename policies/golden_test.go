package policy

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/envelope"
)

var update = flag.Bool("update", false, "rewrite the .want sections of testdata/*.txtar")

// section is one "-- name --" part of a txtar archive.
type section struct {
	name string
	data string
}

// parseTxtar reads the txtar format (golang.org/x/tools/txtar): a comment,
// then sections each starting with a "-- name --" line.
func parseTxtar(src string) (comment string, secs []section) {
	cur := -1
	var b strings.Builder
	flush := func() {
		if cur < 0 {
			comment = b.String()
		} else {
			secs[cur].data = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(src, "\n") {
		t := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			secs = append(secs, section{name: strings.TrimSpace(t[3 : len(t)-3])})
			cur = len(secs) - 1
			continue
		}
		b.WriteString(line)
	}
	flush()
	return comment, secs
}

func formatTxtar(comment string, secs []section) string {
	var b strings.Builder
	b.WriteString(comment)
	for _, s := range secs {
		fmt.Fprintf(&b, "-- %s --\n%s", s.name, s.data)
		if s.data != "" && !strings.HasSuffix(s.data, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// goldenCase is an input section: a request and a state, one item a line.
type goldenCase struct {
	req     Request
	st      State
	noEscal bool
}

func parseCase(t *testing.T, name, src string) goldenCase {
	t.Helper()
	c := goldenCase{st: State{Networks: map[string]NetState{}}}
	level := func(s string) envelope.ManCon {
		if s == "unset" {
			return envelope.ManConUnset
		}
		m, err := envelope.ParseManCon(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	for _, line := range strings.Split(src, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		arg := func(i int) string {
			if len(f) <= i {
				t.Fatalf("%s: short line %q", name, line)
			}
			return f[i]
		}
		switch f[0] {
		case "kind":
			c.req.Kind = envelope.Kind(arg(1))
		case "to":
			c.req.To = arg(1)
		case "mancon":
			c.req.ManCon = level(arg(1))
		case "base":
			c.st.Base = level(arg(1))
		case "escalated":
			c.st.Escalated = level(arg(1))
		case "escalation":
			c.noEscal = arg(1) == "off"
		case "net":
			ns := NetState{}
			for i, s := range statusNames {
				if s == arg(2) {
					ns.Status = Status(i)
				}
			}
			if len(f) > 3 {
				ts, err := time.Parse(time.RFC3339, f[3])
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				ns.Since, ns.Why = ts, strings.Join(f[4:], " ")
			}
			c.st.Networks[arg(1)] = ns
		case "peer":
			c.st.Peers = append(c.st.Peers, Peer{ID: arg(1), Networks: strings.Split(arg(2), ","), ManCon: level(arg(3))})
		default:
			t.Fatalf("%s: unknown line %q", name, line)
		}
	}
	return c
}

func runCase(p *Policy, c goldenCase) string {
	if c.noEscal {
		cp := *p
		cp.Escalations = nil
		p = &cp
	}
	pl, err := Evaluate(p, c.req, c.st)
	out := pl.String()
	if err != nil {
		out += "error: " + err.Error() + "\n"
	}
	return out
}

// goldenPolicy is the section that, when an archive has one, replaces the
// default policy for that archive's cases; positions in it read
// policy.hcl:LINE:COL, counted from the section's first line.
const goldenPolicy = "policy.hcl"

// TestGolden evaluates every input section of testdata/*.txtar against the
// default policy, or the archive's own policy.hcl section, and compares with
// its ".want" section.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		comment, secs := parseTxtar(string(raw))
		p := Default()
		want := map[string]int{}
		for i, s := range secs {
			if strings.HasSuffix(s.name, ".want") {
				want[strings.TrimSuffix(s.name, ".want")] = i
			}
			if s.name == goldenPolicy {
				if p, err = Parse([]byte(s.data), goldenPolicy); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
			}
		}
		var out []section
		for _, s := range secs {
			if s.name == goldenPolicy {
				out = append(out, s)
				continue
			}
			if strings.HasSuffix(s.name, ".want") {
				continue
			}
			name := filepath.Base(file) + "/" + s.name
			got := runCase(p, parseCase(t, name, s.data))
			out = append(out, s, section{name: s.name + ".want", data: got})
			i, ok := want[s.name]
			if *update {
				continue
			}
			if !ok {
				t.Errorf("%s: no .want section (run go test -update)", name)
				continue
			}
			if got != secs[i].data {
				t.Errorf("%s: plan differs\n--- got ---\n%s--- want ---\n%s", name, got, secs[i].data)
			}
		}
		if *update {
			if err := os.WriteFile(file, []byte(formatTxtar(comment, out)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTxtarRoundTrip(t *testing.T) {
	src := "comment\n-- a --\nx\ny\n-- a.want --\n\n-- b --\n"
	c, secs := parseTxtar(src)
	if c != "comment\n" || len(secs) != 3 || secs[0].data != "x\ny\n" || secs[1].data != "\n" || secs[2].data != "" {
		t.Fatalf("parse: %q %#v", c, secs)
	}
	if got := formatTxtar(c, secs); !bytes.Equal([]byte(got), []byte(src)) {
		t.Fatalf("format: %q", got)
	}
}
