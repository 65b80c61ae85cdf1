package hosttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/ports"
)

var built struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string // package → binary path
}

// Cleanup removes the binaries Build made. Call it from TestMain.
func Cleanup() {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.dir != "" {
		os.RemoveAll(built.dir)
		built.dir, built.bins = "", nil
	}
}

// ModuleRoot is the directory of the module's go.mod.
func ModuleRoot(tb testing.TB) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		tb.Fatalf("hosttest: go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// Build compiles the module package pkg (e.g. "./plugins/direct") into a
// binary called name, once per test process, and returns its path.
func Build(tb testing.TB, pkg, name string) string {
	tb.Helper()
	built.mu.Lock()
	defer built.mu.Unlock()
	if p, ok := built.bins[pkg]; ok {
		return p
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "onemfive-hosttest-")
		if err != nil {
			tb.Fatal(err)
		}
		built.dir, built.bins = dir, map[string]string{}
	}
	out := filepath.Join(built.dir, pkg, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ModuleRoot(tb)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("hosttest: go build %s: %v\n%s", pkg, err, b)
	}
	built.bins[pkg] = out
	return out
}

// Daemon, CLI and Direct build the standard binaries.
func Daemon(tb testing.TB) string { return Build(tb, "./host/cmd/onemfived", "onemfived") }

// CLI builds the onemfive command.
func CLI(tb testing.TB) string { return Build(tb, "./host/cmd/onemfive", "onemfive") }

// Direct builds the direct transport plugin.
func Direct(tb testing.TB) string { return Build(tb, "./plugins/direct", "onemfive-transport-direct") }

// LAN builds the lan transport plugin.
func LAN(tb testing.TB) string { return Build(tb, "./plugins/lan", "onemfive-transport-lan") }

// RunCLI runs the onemfive CLI (60 s at most) and returns its stdout; a
// non-zero exit fails the test.
func RunCLI(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := TryCLI(tb, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// TryCLI is RunCLI that returns the failure instead.
func TryCLI(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	cli := CLI(tb)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("onemfive %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// below the ephemeral range so that it stays free across a daemon's
// restart (internal/testnet/ports).
func FreePort(tb testing.TB) int {
	ps, err := ports.Free(1, false)
	if err != nil {
		tb.Fatal(err)
	}
	return ps[0]
}

// ProcKB returns a field of /proc/PID/status in KiB: "VmRSS" (all resident
// pages) or "RssAnon" (private memory, without the mapped binary).
func ProcKB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			var kb int
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb, err
		}
	}
	return 0, fmt.Errorf("hosttest: no %s for pid %d", field, pid)
}
