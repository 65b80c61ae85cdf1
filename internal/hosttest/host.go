package hosttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// Plugin is a plugin a Host installs and configures.
type Plugin struct {
	Name   string // the plugin "NAME" block
	Binary string // built binary to install (onemfive-<kind>-<name>); "" if installed already
	Body   string // HCL inside the block
}

// Options configure a Host.
type Options struct {
	Plugins  []Plugin
	LogLevel string            // default "debug"
	Env      map[string]string // extra environment for the daemon
	// Wrap, if set, prefixes the daemon command (e.g. "ip netns exec NS").
	Wrap []string
	// Config is extra top-level HCL for config.hcl (mancon, policies ...).
	Config string
}

// Host is one onemfived process with its own directories.
type Host struct {
	TB        testing.TB
	Name      string
	Dir       string
	DataDir   string
	PluginDir string
	Config    string // path of its config.hcl
	C         *client.Client
	ID        string // node id, known after the first Start

	opt   Options
	cmd   *exec.Cmd
	logMu sync.Mutex
	log   bytes.Buffer
	done  chan struct{}
}

// NewHost prepares a host (installs its plugins, writes its config); Start
// runs it. The host is stopped at test cleanup.
func NewHost(tb testing.TB, name string, o Options) *Host {
	tb.Helper()
	Daemon(tb)
	dir := tb.TempDir()
	h := &Host{TB: tb, Name: name, Dir: dir, DataDir: filepath.Join(dir, "data"), PluginDir: filepath.Join(dir, "plugins"),
		Config: filepath.Join(dir, "config.hcl"), opt: o}
	if o.LogLevel == "" {
		o.LogLevel = "debug"
	}
	cfg := fmt.Sprintf("data_dir = %q\nplugin_dir = %q\nlog_level = %q\napi {\n  listen = \"127.0.0.1:0\"\n}\n", h.DataDir, h.PluginDir, o.LogLevel)
	cfg += o.Config + "\n"
	if !strings.Contains(o.Config, "onion {") {
		// Test networks of two or three hosts on direct links are too
		// small for onion paths: send directly, as a user of such a
		// network would configure (the default keeps such envelopes
		// queued). Tests of the onion layer write their own block.
		cfg += "onion {\n  fallback_clearnet = true\n}\n"
	}
	for _, p := range o.Plugins {
		if p.Binary != "" {
			h.Install(p.Binary)
		}
		cfg += fmt.Sprintf("plugin %q {\n%s\n}\n", p.Name, p.Body)
	}
	if err := os.WriteFile(h.Config, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(h.Stop)
	return h
}

// Install installs a plugin binary into the host's plugin dir with the CLI.
func (h *Host) Install(bin string) {
	h.TB.Helper()
	RunCLI(h.TB, "plugin", "install", "--dir", h.PluginDir, bin)
}

// Start runs the daemon and waits (30 s at most) until its API answers.
func (h *Host) Start() {
	h.TB.Helper()
	os.Remove(filepath.Join(h.DataDir, client.AddrFile))
	args := append(append([]string{}, h.opt.Wrap...), Daemon(h.TB), "--config", h.Config)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = os.Environ()
	for k, v := range h.opt.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		h.TB.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		h.TB.Fatal(err)
	}
	pw.Close()
	h.cmd = cmd
	h.done = make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			h.logMu.Lock()
			h.log.WriteString(sc.Text() + "\n")
			h.logMu.Unlock()
		}
	}()
	go func() { cmd.Wait(); close(h.done) }()
	if len(h.opt.Wrap) > 0 {
		h.waitWrapped()
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.FromDataDir(h.DataDir)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			var st client.Status
			st, err = c.Status(ctx)
			cancel()
			if err == nil {
				h.C, h.ID = c, st.NodeID
				return
			}
		}
		select {
		case <-h.done:
			h.TB.Fatalf("%s: daemon exited during start:\n%s", h.Name, h.Logs())
		default:
		}
		if time.Now().After(deadline) {
			h.TB.Fatalf("%s: daemon not ready after 30 s: %v\n%s", h.Name, err, h.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitWrapped waits for a wrapped daemon (in another network namespace,
// say, where this process cannot reach its API) through the CLI run with
// the same wrapper. h.C stays nil: use h.CLI.
func (h *Host) waitWrapped() {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := h.CLI("status", "--json")
		if err == nil {
			var st client.Status
			if err = json.Unmarshal([]byte(out), &st); err == nil {
				h.ID = st.NodeID
				return
			}
		}
		select {
		case <-h.done:
			h.TB.Fatalf("%s: daemon exited during start:\n%s", h.Name, h.Logs())
		default:
		}
		if time.Now().After(deadline) {
			h.TB.Fatalf("%s: daemon not ready after 30 s: %v\n%s", h.Name, err, h.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// CLI runs the onemfive CLI against this host (--data-dir), under the
// host's Wrap, and returns its stdout.
func (h *Host) CLI(args ...string) (string, error) {
	h.TB.Helper()
	full := append(append(append([]string{}, h.opt.Wrap...), CLI(h.TB), "--data-dir", h.DataDir), args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: onemfive %s: %v\n%s%s", h.Name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// PID is the daemon's process id while it runs.
func (h *Host) PID() int { return h.cmd.Process.Pid }

// Logs returns everything the daemon printed so far.
func (h *Host) Logs() string {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return h.log.String()
}

// Stop sends SIGTERM and waits (20 s, then SIGKILL). The log is printed
// when the test failed or ONEMFIVE_TEST_LOGS is set.
func (h *Host) Stop() {
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	select {
	case <-h.done:
	default:
		h.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-h.done:
		case <-time.After(20 * time.Second):
			h.cmd.Process.Kill()
			<-h.done
		}
	}
	if h.TB.Failed() || os.Getenv("ONEMFIVE_TEST_LOGS") != "" {
		h.TB.Logf("--- %s log ---\n%s", h.Name, h.Logs())
	}
	h.cmd = nil
}

// Kill9 kills the daemon with SIGKILL and waits for it.
func (h *Host) Kill9() {
	h.cmd.Process.Kill()
	<-h.done
	h.cmd = nil
}

// Status fetches the daemon's status.
func (h *Host) Status() client.Status {
	h.TB.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := h.C.Status(ctx)
	if err != nil {
		h.TB.Fatalf("%s: status: %v", h.Name, err)
	}
	return st
}

// Plugin returns the status of the named plugin.
func (h *Host) Plugin(name string) client.PluginStatus {
	h.TB.Helper()
	for _, p := range h.Status().Plugins {
		if p.Name == name {
			return p
		}
	}
	h.TB.Fatalf("%s: no plugin %s in status", h.Name, name)
	return client.PluginStatus{}
}

// WaitPlugin waits (within) until the named plugin is in state.
func (h *Host) WaitPlugin(name, state string, within time.Duration) client.PluginStatus {
	h.TB.Helper()
	deadline := time.Now().Add(within)
	for {
		p := h.Plugin(name)
		if p.State == state {
			return p
		}
		if time.Now().After(deadline) {
			h.TB.Fatalf("%s: plugin %s is %s (%s), want %s", h.Name, name, p.State, p.Error, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Record returns the host's signed peer record.
func (h *Host) Record() client.NodeRecord {
	h.TB.Helper()
	rec, err := h.C.Node(context.Background())
	if err != nil {
		h.TB.Fatal(err)
	}
	return rec
}

// Introduce makes each host know the other's record.
func Introduce(tb testing.TB, a, b *Host) {
	tb.Helper()
	ctx := context.Background()
	for _, p := range [][2]*Host{{a, b}, {b, a}} {
		if _, err := p[0].C.AddPeer(ctx, p[1].Record().Record); err != nil {
			tb.Fatalf("%s add peer %s: %v", p[0].Name, p[1].Name, err)
		}
	}
}

// Send sends a text envelope to another host's node and returns its id.
func (h *Host) Send(to *Host, body string) string {
	h.TB.Helper()
	env := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindP2P, To: to.ID,
		ContentType: "text/plain", Payload: []byte(body), Guarantee: envelope.ExactlyOnce}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.C.Send(ctx, env)
	if err != nil {
		h.TB.Fatalf("%s send: %v", h.Name, err)
	}
	return res.ID
}

// WaitInbox waits until the inbox holds at least n items and returns them.
func (h *Host) WaitInbox(n int, within time.Duration) []client.InboxItem {
	h.TB.Helper()
	deadline := time.Now().Add(within)
	for {
		items, err := h.C.Inbox(context.Background(), 0, 1000)
		if err == nil && len(items) >= n {
			return items
		}
		if time.Now().After(deadline) {
			h.TB.Fatalf("%s: inbox has %d items (err %v), want %d", h.Name, len(items), err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// CheckExactlyOnce asserts items hold exactly the payloads in want, once
// each, and (when from is not empty) all from that sender.
func CheckExactlyOnce(tb testing.TB, items []client.InboxItem, want map[string]bool, from string) {
	tb.Helper()
	seen := map[string]int{}
	for _, it := range items {
		if from != "" && it.From != from {
			tb.Errorf("item %d from %s, want %s", it.Seq, it.From, from)
		}
		seen[string(it.Envelope.Payload)]++
	}
	var bad []string
	for body := range want {
		if seen[body] != 1 {
			bad = append(bad, fmt.Sprintf("%q×%d", body, seen[body]))
		}
	}
	if len(bad) > 0 {
		tb.Errorf("not delivered exactly once: %s", strings.Join(bad, ", "))
	}
	if len(items) != len(want) {
		tb.Errorf("inbox has %d items, want %d", len(items), len(want))
	}
}
