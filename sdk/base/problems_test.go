package base

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

func TestProblems(t *testing.T) {
	cfg := Config{Filename: "c.hcl", Start: hcl.Pos{Line: 10, Column: 14, Byte: 200},
		Body: []byte("\n  keepalive = \"-1s\"\n  wait = \"soon\"\n  ok = \"2s\"\n")}
	p := cfg.Problems()
	var d time.Duration
	p.Duration("keepalive", "-1s", &d)
	p.Duration("wait", "soon", &d)
	p.Duration("ok", "2s", &d)
	p.Duration("unset", "", &d)
	p.Add("elsewhere", errStr("derived"))
	err := p.Err()
	for _, want := range []string{"c.hcl:11:3: keepalive: -1s is not positive", "c.hcl:12:3: wait:", "elsewhere: derived"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if d != 2*time.Second {
		t.Fatalf("ok parsed to %v", d)
	}
	if (Config{}).Problems().Err() != nil {
		t.Fatal("no problems, yet an error")
	}
}

type errStr string

func (e errStr) Error() string { return string(e) }
