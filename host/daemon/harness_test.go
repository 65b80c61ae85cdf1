package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
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

// Real-process tests: they build onemfived, the onemfive CLI and the direct
// plugin, and run several daemons on 127.0.0.1. `make test` runs them inside
// a network namespace with only loopback.

var bins struct {
	dir     string
	daemon  string
	cli     string
	direct  string
	future  string
	echo    string
	buildMu sync.Once
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

func moduleRoot(t testing.TB) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// build compiles the binaries once per test binary run.
func build(t testing.TB) {
	t.Helper()
	bins.buildMu.Do(func() {
		root := moduleRoot(t)
		dir, err := os.MkdirTemp("", "onemfive-e2e-bin-")
		if err != nil {
			bins.err = err
			return
		}
		bins.dir = dir
		bins.daemon = filepath.Join(dir, "onemfived")
		bins.cli = filepath.Join(dir, "onemfive")
		bins.direct = filepath.Join(dir, "src", "onemfive-transport-direct")
		bins.future = filepath.Join(dir, "src", "onemfive-transport-future")
		bins.echo = filepath.Join(dir, "src", "onemfive-service-echo")
		for out, pkg := range map[string]string{
			bins.daemon: "./host/cmd/onemfived",
			bins.cli:    "./host/cmd/onemfive",
			bins.direct: "./plugins/direct",
			bins.future: "./host/daemon/testdata/futureplugin",
			bins.echo:   "./host/daemon/testdata/echoservice",
		} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				bins.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// cli runs the onemfive CLI and returns its stdout.
func cli(t testing.TB, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.cli, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("onemfive %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// host is one onemfived process with its own data and plugin dirs.
type host struct {
	t         testing.TB
	name      string
	dir       string
	dataDir   string
	pluginDir string
	cfgPath   string
	port      int // direct transport port
	tap       string
	cmd       *exec.Cmd
	logMu     sync.Mutex
	log       bytes.Buffer
	done      chan struct{}
	c         *client.Client
	id        string // node id, known after the first start
}

type hostOpts struct {
	extraPlugins string // more HCL plugin blocks
	noDirect     bool
}

func newHost(t testing.TB, name string, o hostOpts) *host {
	t.Helper()
	build(t)
	dir := t.TempDir()
	h := &host{t: t, name: name, dir: dir, dataDir: filepath.Join(dir, "data"), pluginDir: filepath.Join(dir, "plugins"),
		cfgPath: filepath.Join(dir, "config.hcl"), port: freePort(t), tap: filepath.Join(dir, "direct.tap")}
	cli(t, "plugin", "install", "--dir", h.pluginDir, bins.direct)
	cfg := fmt.Sprintf(`data_dir = %q
plugin_dir = %q
log_level = "debug"
api {
  listen = "127.0.0.1:0"
}
`, h.dataDir, h.pluginDir)
	if !o.noDirect {
		cfg += fmt.Sprintf(`plugin "direct" {
  listen   = "127.0.0.1:%d"
  tap_file = %q
}
`, h.port, h.tap)
	}
	cfg += o.extraPlugins
	if err := os.WriteFile(h.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	return h
}

func (h *host) start() {
	h.t.Helper()
	os.Remove(filepath.Join(h.dataDir, "api.addr"))
	cmd := exec.Command(bins.daemon, "--config", h.cfgPath)
	pr, pw, err := os.Pipe()
	if err != nil {
		h.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
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
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.FromDataDir(h.dataDir)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = c.Status(ctx)
			cancel()
			if err == nil {
				h.c = c
				h.id = h.status().NodeID
				return
			}
		}
		select {
		case <-h.done:
			h.t.Fatalf("%s: daemon exited during start:\n%s", h.name, h.logs())
		default:
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: daemon not ready after 30 s: %v\n%s", h.name, err, h.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *host) logs() string {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return h.log.String()
}

// stop sends SIGTERM and waits.
func (h *host) stop() {
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
	if h.t.Failed() || os.Getenv("ONEMFIVE_TEST_LOGS") != "" {
		h.t.Logf("--- %s log ---\n%s", h.name, h.logs())
	}
	h.cmd = nil
}

// kill9 kills the daemon with SIGKILL.
func (h *host) kill9() {
	h.cmd.Process.Kill()
	<-h.done
	h.cmd = nil
}

func (h *host) status() client.Status {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := h.c.Status(ctx)
	if err != nil {
		h.t.Fatalf("%s: status: %v", h.name, err)
	}
	return st
}

func (h *host) plugin(name string) client.PluginStatus {
	for _, p := range h.status().Plugins {
		if p.Name == name {
			return p
		}
	}
	h.t.Fatalf("%s: no plugin %s in status", h.name, name)
	return client.PluginStatus{}
}

// waitPlugin waits until the named plugin is in state.
func (h *host) waitPlugin(name, state string) client.PluginStatus {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := h.plugin(name)
		if p.State == state {
			return p
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: plugin %s is %s (%s), want %s", h.name, name, p.State, p.Error, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *host) nodeRecord() client.NodeRecord {
	h.t.Helper()
	rec, err := h.c.Node(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return rec
}

// introduce makes each host know the other's record.
func introduce(t testing.TB, a, b *host) {
	t.Helper()
	ctx := context.Background()
	for _, p := range [][2]*host{{a, b}, {b, a}} {
		if _, err := p[0].c.AddPeer(ctx, p[1].nodeRecord().Record); err != nil {
			t.Fatalf("%s add peer %s: %v", p[0].name, p[1].name, err)
		}
	}
}

func (h *host) send(to *host, body string) string {
	h.t.Helper()
	env := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindP2P, To: to.id,
		ContentType: "text/plain", Payload: []byte(body), Guarantee: envelope.ExactlyOnce}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.c.Send(ctx, env)
	if err != nil {
		h.t.Fatalf("%s send: %v", h.name, err)
	}
	return res.ID
}

// waitInbox waits until the inbox holds n items and returns them all.
func (h *host) waitInbox(n int, within time.Duration) []client.InboxItem {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		items, err := h.c.Inbox(context.Background(), 0, 1000)
		if err == nil && len(items) >= n {
			return items
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: inbox has %d items (err %v), want %d", h.name, len(items), err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// procKB returns a field of /proc/PID/status in KiB: "VmRSS" (all resident
// pages) or "RssAnon" (private memory, without the mapped binary).
func procKB(pid int, field string) (int, error) {
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
	return 0, fmt.Errorf("no %s for pid %d", field, pid)
}
