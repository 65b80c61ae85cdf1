package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/registry"
)

func TestPluginCommands(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	src := filepath.Join(root, "build", "onemfive-transport-foo")
	os.MkdirAll(filepath.Dir(src), 0o755)
	if err := os.WriteFile(src, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		var out, errb bytes.Buffer
		a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader(""),
			executable: func() (string, error) { return filepath.Join(bin, "onemfive"), nil }}
		code := a.main(context.Background(), args)
		return result{code, out.String(), errb.String()}
	}
	pluginDir := filepath.Join(bin, "plugins") // the default: next to the executable

	if r := run("plugin", "list"); r.code != 0 || !strings.Contains(r.stderr, "no plugins in "+pluginDir) {
		t.Fatalf("empty list: %+v", r)
	}
	r := run("plugin", "install", src)
	if r.code != 0 || !strings.Contains(r.stdout, "installed transport foo") {
		t.Fatalf("install: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(pluginDir, "onemfive-transport-foo")); err != nil {
		t.Fatalf("binary not in the default dir: %v", err)
	}
	r = run("plugin", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "foo") || !strings.Contains(r.stdout, "transport") || !strings.HasSuffix(r.stdout, "ok\n") {
		t.Fatalf("list:\n%s%s", r.stdout, r.stderr)
	}
	// Tampering shows in the list.
	os.WriteFile(filepath.Join(pluginDir, "onemfive-transport-foo"), []byte("#!/bin/sh\nexit 1\n"), 0o755)
	if r = run("plugin", "list"); !strings.Contains(r.stdout, "CHECKSUM MISMATCH") {
		t.Fatalf("tampered list:\n%s", r.stdout)
	}
	r = run("plugin", "list", "--json")
	var ms []registry.Manifest
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ms) != nil || len(ms) != 1 || ms[0].Name != "foo" {
		t.Fatalf("list --json: %+v", r)
	}
	if r = run("plugin", "remove", "foo"); r.code != 0 || !strings.Contains(r.stdout, "removed foo") {
		t.Fatalf("remove: %+v", r)
	}
	if r = run("plugin", "remove", "foo"); r.code != 1 {
		t.Fatalf("second remove: %+v", r)
	}

	// --dir overrides the default.
	other := filepath.Join(root, "other")
	if r = run("plugin", "install", "--dir", other, src); r.code != 0 {
		t.Fatalf("install --dir: %+v", r)
	}
	if r = run("plugin", "list", "--dir", other); !strings.Contains(r.stdout, "foo") {
		t.Fatalf("list --dir: %+v", r)
	}
	// A file not named onemfive-KIND-NAME is refused.
	bad := filepath.Join(root, "build", "foo")
	os.WriteFile(bad, []byte("x"), 0o755)
	if r = run("plugin", "install", bad); r.code != 1 {
		t.Fatalf("badly named install: %+v", r)
	}
}
