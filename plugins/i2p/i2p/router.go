package i2p

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
)

// router is one run of the managed i2pd.
type router struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	samAddr string
	control *i2pd.Control
	once    sync.Once
	why     atomic.Value // string: why the plugin stopped it, if it did
}

func (r *router) pid() int {
	if r == nil || r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// stop kills the router and waits for it. Idempotent.
func (r *router) stop() {
	if r == nil {
		return
	}
	r.once.Do(func() {
		r.cmd.Process.Kill()
		<-r.exited
	})
}

// routerOptions are the managed i2pd's settings: quiet (see i2pd.Quiet),
// SAM and I2PControl on free ports of 127.0.0.1, log lines on stdout;
// then the configured i2pd map over them.
func routerOptions(user i2pd.Options, samPort, samUDP, ctlPort int, password string) i2pd.Options {
	return i2pd.Quiet().Merge(i2pd.Options{
		"log": "stdout", "loglevel": "warn",
		"sam.enabled": "true", "sam.address": "127.0.0.1", "sam.port": strconv.Itoa(samPort),
		"sam.portudp":        strconv.Itoa(samUDP),
		"i2pcontrol.enabled": "true", "i2pcontrol.address": "127.0.0.1", "i2pcontrol.port": strconv.Itoa(ctlPort),
		"i2pcontrol.password": password,
	}).Merge(user)
}

// startRouter starts i2pd with the plugin's data directory and waits
// (within ctx) until its SAM bridge answers.
func (t *Transport) startRouter(ctx context.Context) (*router, error) {
	bin, err := i2pd.Find(ctx, t.cfg.i2pdPath)
	if err != nil {
		return nil, fmt.Errorf("i2p: %w", err)
	}
	dir := filepath.Join(t.cfg.dataDir, "i2pd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("i2p: data dir: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, fmt.Errorf("i2p: %w", err)
	}
	var pw [12]byte
	rand.Read(pw[:])
	opts := routerOptions(t.cfg.i2pd, ports[0], ports[1], ports[2], hex.EncodeToString(pw[:]))
	if err := opts.Check(); err != nil {
		return nil, fmt.Errorf("i2p: %w", err)
	}
	// i2pd keeps a public destination's lease set encryption keys in
	// destinations/. A peer that talked to this node less than 120 s ago
	// keeps its ratchet session for the old keys and will not replace it
	// with the restarted router's (i2pd's ECIESX25519_RESTART_TIMEOUT), so
	// its replies could not be read for two minutes. New keys at every
	// start make peers open a new session at once; the destination (the
	// address) does not change.
	if err := os.RemoveAll(filepath.Join(dir, "destinations")); err != nil {
		return nil, fmt.Errorf("i2p: data dir: %w", err)
	}
	conf, tun := filepath.Join(dir, "i2pd.conf"), filepath.Join(dir, "tunnels.conf")
	if err := os.WriteFile(conf, []byte(opts.Render()), 0o600); err != nil {
		return nil, fmt.Errorf("i2p: i2pd.conf: %w", err)
	}
	if err := os.WriteFile(tun, nil, 0o600); err != nil {
		return nil, fmt.Errorf("i2p: tunnels.conf: %w", err)
	}
	r := &router{exited: make(chan struct{}),
		samAddr: net.JoinHostPort(opts["sam.address"], opts["sam.port"]),
		control: &i2pd.Control{Addr: net.JoinHostPort(opts["i2pcontrol.address"], opts["i2pcontrol.port"]), Password: opts["i2pcontrol.password"]}}
	if opts["i2pcontrol.enabled"] != "true" {
		r.control = nil
	}
	cmd := exec.Command(bin.Path, "--datadir="+dir, "--conf="+conf, "--tunconf="+tun)
	cmd.Stdout, cmd.Stderr = t.routerLog, t.routerLog
	// i2pd dies with the plugin, even on kill -9 of the plugin.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("i2p: start %s: %w", bin.Path, err)
	}
	r.cmd = cmd
	go func() {
		cmd.Wait()
		close(r.exited)
	}()
	t.log.Info("i2pd started", "pid", cmd.Process.Pid, "version", i2pd.VersionString(bin.Version), "sam", r.samAddr)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := probeSAM(pctx, r.samAddr)
		cancel()
		if err == nil {
			return r, nil
		}
		select {
		case <-r.exited:
			return nil, fmt.Errorf("i2p: i2pd exited at start: %s (log: %s)", cmd.ProcessState, t.routerLog.tail())
		case <-ctx.Done():
			r.stop()
			return nil, fmt.Errorf("i2p: i2pd's SAM bridge %s: %w", r.samAddr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct ports on 127.0.0.1 that were free for TCP
// a moment ago.
func freePorts(n int) ([]int, error) {
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer l.Close()
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// lineLogger turns i2pd's stdout into log lines (warnings and errors at
// warn level, the rest at debug), hands each line to onLine, and keeps
// the last few for error messages.
type lineLogger struct {
	log    hclog.Logger
	onLine func(string)
	mu     sync.Mutex
	buf    []byte
	last   []string
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	var lines []string
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
		if line != "" {
			lines = append(lines, line)
		}
	}
	if len(l.buf) > 64<<10 {
		l.buf = l.buf[:0]
	}
	l.last = append(l.last, lines...)
	if len(l.last) > 5 {
		l.last = l.last[len(l.last)-5:]
	}
	l.mu.Unlock()
	for _, line := range lines {
		// i2pd logs the Token parameter the I2PControl API requires
		// as an unknown key on every poll: not worth a warning.
		noise := strings.Contains(line, "unknown request Token")
		if !noise && (strings.Contains(line, "/warn") || strings.Contains(line, "/error") || strings.Contains(line, "/critical")) {
			l.log.Warn(line)
		} else {
			l.log.Debug(line)
		}
		if l.onLine != nil {
			l.onLine(line)
		}
	}
	return len(p), nil
}

func (l *lineLogger) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, " | ")
}
