package config_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/host/config"
)

// configWords are the first words a configuration example starts with.
// A ```hcl fence whose first line that is neither blank nor a comment
// starts with one of them is a configuration example (a fragment such as a
// lone plugin "x" { ... } block is a valid configuration by itself, since
// every key is optional) and must parse. Other hcl fences, such as routing
// policies, belong to other parsers and are skipped with a log line.
var configWords = []string{"data_dir", "plugin_dir", "mancon", "log_level", "api", "plugin"}

type fence struct {
	line int // 1-based line of the first line inside the fence
	src  string
}

func hclFences(t *testing.T, doc []byte) []fence {
	t.Helper()
	var out []fence
	var cur *fence
	var buf strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(doc))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```hcl"):
			cur = &fence{line: n + 1}
			buf.Reset()
		case cur != nil && strings.HasPrefix(trimmed, "```"):
			cur.src = buf.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			buf.WriteString(line)
			buf.WriteByte('\n')
		}
	}
	if cur != nil {
		t.Errorf("unterminated ```hcl fence starting at line %d", cur.line-1)
	}
	return out
}

func isConfigExample(src string) bool {
	for _, line := range strings.Split(src, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "//") {
			continue
		}
		for _, w := range configWords {
			if rest, ok := strings.CutPrefix(l, w); ok && (rest == "" || strings.ContainsAny(rest[:1], " ={\"")) {
				return true
			}
		}
		return false
	}
	return false
}

func TestREADMEExamplesParse(t *testing.T) {
	files := []string{"../../README.md"}
	plugins, _ := filepath.Glob("../../plugins/*/README.md")
	files = append(files, plugins...)
	if len(plugins) == 0 {
		t.Log("no plugins/*/README.md yet")
	}
	for _, f := range files {
		t.Run(filepath.ToSlash(f), func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, fe := range hclFences(t, doc) {
				if !isConfigExample(fe.src) {
					t.Logf("%s:%d: hcl fence is not a config example, skipped", f, fe.line)
					continue
				}
				checked++
				// Pad with newlines so positions in errors are the README's.
				src := strings.Repeat("\n", fe.line-1) + fe.src
				if _, err := config.Parse([]byte(src), f, config.Overrides{IgnoreEnv: true}); err != nil {
					t.Errorf("example at %s:%d does not parse:\n%v", f, fe.line, err)
				}
			}
			t.Logf("%s: %d config examples checked", f, checked)
		})
	}
}

func TestFenceRules(t *testing.T) {
	doc := "text\n```hcl\n# comment\nplugin \"x\" {\n  listen = \"a\"\n}\n```\n\n```hcl\npolicy \"HIGH\" {}\n```\n```hcl\nbogus = 1\n```\n"
	fs := hclFences(t, []byte(doc))
	if len(fs) != 3 || fs[0].line != 3 {
		t.Fatalf("fences = %+v", fs)
	}
	if !isConfigExample(fs[0].src) || isConfigExample(fs[1].src) || isConfigExample(fs[2].src) {
		t.Errorf("classification wrong: %+v", fs)
	}
	if !isConfigExample("api {\n}\n") || isConfigExample("apiary = 1\n") {
		t.Error("api prefix rule wrong")
	}
}
