package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWebURL(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "", "web", "url")
	if r.code == 0 || !strings.Contains(r.stderr, "no web proxy") {
		t.Fatalf("without a proxy: exit %d, stderr %q", r.code, r.stderr)
	}
	e.f.mu.Lock()
	e.f.web = "127.0.0.1:2019"
	e.f.mu.Unlock()
	tok, err := os.ReadFile(filepath.Join(e.dataDir, "api.cookie"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	r = e.run(t, "", "web", "url", "--level", "low")
	if want := "http://LOW:" + token + "@127.0.0.1:2019\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, want, r.stderr)
	}
	r = e.run(t, "", "web", "url")
	if want := "http://onemfive:" + token + "@127.0.0.1:2019\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("no level: stdout %q, want %q", r.stdout, want)
	}
	for _, bad := range [][]string{{"web"}, {"web", "proxy"}, {"web", "url", "--level", "ULTRA"}, {"web", "url", "extra"}} {
		if r := e.run(t, "", bad...); r.code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)", bad, r.code)
		}
	}
}
