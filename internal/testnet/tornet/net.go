package tornet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/pidfile"
	"github.com/onemfive/onemfive/internal/testnet/ports"
)

// Options configure Start. The zero value is a network of one authority
// and three relays in a temporary directory, tor from PATH.
type Options struct {
	// Dir holds every node's data directory, torrc and log, the pid file
	// and client.torrc. Default: a new temporary directory, removed by Stop.
	Dir string
	// Relays is the number of relays besides the authority, at least 3
	// (fewer cannot carry onion services). Default 3.
	Relays int
	// Bridge adds an unpublished obfs4 bridge.
	Bridge bool
	// TorPath, GencertPath and Obfs4Path locate the programs. Defaults:
	// "tor" and "tor-gencert" from PATH (then /usr/sbin, /usr/bin) and
	// /usr/bin/obfs4proxy.
	TorPath, GencertPath, Obfs4Path string
	// Detach starts tor in its own session without a parent-death signal,
	// so the network outlives this process (the CLI's `up`); Down stops it.
	Detach bool
	// Logf, if set, gets progress lines.
	Logf func(format string, args ...any)
}

// Network is a running private Tor network.
type Network struct {
	Dir         string
	Authorities []Authority
	Nicknames   []string // every relay in the consensus, the authority included
	// BridgeLine is the obfs4 bridge ("obfs4 127.0.0.1:P FP cert=...
	// iat-mode=0"), empty without Options.Bridge.
	BridgeLine string
	Obfs4Path  string

	opt     Options
	tempDir bool
	mu      sync.Mutex
	procs   []*proc
	stopped bool
}

// proc is one started tor; done closes when it has exited.
type proc struct {
	nick string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done closes
}

// PidFile, ClientFile and BridgeClientFile are the names of the files Start
// writes into Options.Dir.
const (
	PidFile          = pidfile.Name
	ClientFile       = "client.torrc"
	BridgeClientFile = "bridge-client.torrc"
)

// Start generates the network's keys and torrcs, starts every node and
// waits until the consensus lists every relay as Running (and the bridge
// has its obfs4 line). It refuses to run outside a loopback-only network
// namespace (see Isolated). On failure it stops what it started.
func Start(ctx context.Context, opt Options) (_ *Network, err error) {
	if err := Isolated(); err != nil {
		return nil, err
	}
	if opt.Relays == 0 {
		opt.Relays = 3
	}
	if opt.Relays < 3 {
		return nil, fmt.Errorf("tornet: %d relays: onion services need at least 3", opt.Relays)
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	if opt.TorPath, err = findProgram(opt.TorPath, "tor"); err != nil {
		return nil, err
	}
	if opt.GencertPath, err = findProgram(opt.GencertPath, "tor-gencert"); err != nil {
		return nil, err
	}
	n := &Network{opt: opt}
	if opt.Bridge {
		if opt.Obfs4Path, err = findProgram(opt.Obfs4Path, "obfs4proxy"); err != nil {
			return nil, err
		}
		n.Obfs4Path, n.opt.Obfs4Path = opt.Obfs4Path, opt.Obfs4Path
	}
	if opt.Dir == "" {
		if opt.Dir, err = os.MkdirTemp("", "tornet-"); err != nil {
			return nil, fmt.Errorf("tornet: %w", err)
		}
		n.tempDir = true
	}
	if n.Dir, err = filepath.Abs(opt.Dir); err != nil {
		return nil, fmt.Errorf("tornet: %w", err)
	}
	n.opt.Dir = n.Dir
	defer func() {
		if err != nil {
			n.Stop()
		}
	}()
	if err := n.start(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

func findProgram(given, name string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(d, name); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("tornet: %s not found (apt-get install tor obfs4proxy)", name)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func (n *Network) start(ctx context.Context) error {
	if err := os.MkdirAll(n.Dir, 0o700); err != nil {
		return fmt.Errorf("tornet: %w", err)
	}
	empty := filepath.Join(n.Dir, "empty.torrc")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return fmt.Errorf("tornet: %w", err)
	}
	ports, err := freePorts(2 + n.opt.Relays + 2)
	if err != nil {
		return err
	}
	auth := Authority{Nickname: "auth0", ORPort: ports[0], DirPort: ports[1]}
	authDir := filepath.Join(n.Dir, auth.Nickname)
	if auth.V3Ident, err = n.gencert(ctx, authDir, auth.DirPort); err != nil {
		return err
	}
	if auth.RSAFP, err = n.fingerprint(ctx, empty, authDir, auth.Nickname); err != nil {
		return err
	}
	n.Authorities = []Authority{auth}
	type node struct{ nick, dir, torrc string }
	nodes := []node{{auth.Nickname, authDir, AuthorityTorrc(n.Authorities, auth, authDir)}}
	for i := range n.opt.Relays {
		nick := fmt.Sprintf("relay%d", i+1)
		dir := filepath.Join(n.Dir, nick)
		nodes = append(nodes, node{nick, dir, RelayTorrc(n.Authorities, dir, nick, ports[2+i])})
	}
	var bridgeDir, bridgeFP string
	if n.opt.Bridge {
		bridgeDir = filepath.Join(n.Dir, "bridge")
		if bridgeFP, err = n.fingerprint(ctx, empty, bridgeDir, "bridge"); err != nil {
			return err
		}
		nodes = append(nodes, node{"bridge", bridgeDir,
			BridgeTorrc(n.Authorities, bridgeDir, ports[2+n.opt.Relays], ports[3+n.opt.Relays], n.opt.Obfs4Path)})
	}
	for _, nd := range nodes {
		if err := os.MkdirAll(nd.dir, 0o700); err != nil {
			return fmt.Errorf("tornet: %w", err)
		}
		torrc := filepath.Join(nd.dir, "torrc")
		if bad := PublicAuthorities(nd.torrc); len(bad) > 0 {
			return fmt.Errorf("tornet: %s torrc is not private: %s", nd.nick, strings.Join(bad, "; "))
		}
		if err := os.WriteFile(torrc, []byte(nd.torrc), 0o600); err != nil {
			return fmt.Errorf("tornet: %w", err)
		}
		if err := n.spawn(nd.nick, nd.dir, n.opt.TorPath, "--defaults-torrc", empty, "-f", torrc); err != nil {
			return err
		}
		if nd.nick != "bridge" {
			n.Nicknames = append(n.Nicknames, nd.nick)
		}
	}
	if err := os.WriteFile(filepath.Join(n.Dir, ClientFile), []byte(join(n.ClientTorrc())), 0o600); err != nil {
		return fmt.Errorf("tornet: %w", err)
	}
	n.opt.Logf("tornet: started %d tor processes in %s; waiting for the consensus", len(nodes), n.Dir)
	if err := n.waitConsensus(ctx); err != nil {
		return err
	}
	if n.opt.Bridge {
		if n.BridgeLine, err = n.waitBridgeLine(ctx, bridgeDir, ports[3+n.opt.Relays], bridgeFP); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(n.Dir, BridgeClientFile), []byte(join(n.BridgeClientTorrc())), 0o600); err != nil {
			return fmt.Errorf("tornet: %w", err)
		}
	}
	return nil
}

// ClientTorrc returns the lines a tor client needs to join the network.
func (n *Network) ClientTorrc() []string { return ClientLines(n.Authorities) }

// BridgeClientTorrc returns the lines a tor client needs to join the
// network through the obfs4 bridge only (nil without a bridge).
func (n *Network) BridgeClientTorrc() []string {
	if n.BridgeLine == "" {
		return nil
	}
	return append(n.ClientTorrc(), BridgeClientLines(n.BridgeLine, n.Obfs4Path)...)
}

// PIDs returns the pids of the tor processes Start started.
func (n *Network) PIDs() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []int
	for _, p := range n.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// StopAuthority kills the directory authority only (tests of what clients
// do when the network's directory is gone).
func (n *Network) StopAuthority() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.procs) > 0 {
		n.procs[0].cmd.Process.Kill()
	}
}

// Stop kills every tor process Start started, by pid, waits for them, and
// removes a temporary Dir. It is idempotent.
func (n *Network) Stop() {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.stopped = true
	procs := n.procs
	n.mu.Unlock()
	for _, p := range procs {
		p.cmd.Process.Kill()
	}
	for _, p := range procs {
		<-p.done
	}
	if n.tempDir {
		os.RemoveAll(n.Dir)
	} else {
		pidfile.Remove(n.Dir)
	}
}

// spawn starts one process, its output into dir/stdout.log, and records
// its pid in the pid file.
func (n *Network) spawn(nick, dir, prog string, args ...string) error {
	logf, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		return fmt.Errorf("tornet: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	if n.opt.Detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return errors.New("tornet: stopped")
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tornet: start %s: %w", nick, err)
	}
	p := &proc{nick: nick, cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	n.procs = append(n.procs, p)
	return pidfile.Add(n.Dir, cmd.Process.Pid, nick)
}

// gencert makes the authority's identity and signing keys in dir/keys and
// returns the v3 identity fingerprint.
func (n *Network) gencert(ctx context.Context, dir string, dirPort int) (string, error) {
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return "", fmt.Errorf("tornet: %w", err)
	}
	cmd := exec.CommandContext(ctx, n.opt.GencertPath, "--create-identity-key", "-m", "12",
		"-a", fmt.Sprintf("127.0.0.1:%d", dirPort), "-i", "authority_identity_key",
		"-s", "authority_signing_key", "-c", "authority_certificate", "--passphrase-fd", "0")
	cmd.Dir = keys
	cmd.Stdin = strings.NewReader("\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("tornet: tor-gencert: %w: %s", err, out)
	}
	cert, err := os.ReadFile(filepath.Join(keys, "authority_certificate"))
	if err != nil {
		return "", fmt.Errorf("tornet: %w", err)
	}
	for _, l := range strings.Split(string(cert), "\n") {
		if fp, ok := strings.CutPrefix(l, "fingerprint "); ok {
			return strings.TrimSpace(fp), nil
		}
	}
	return "", errors.New("tornet: authority certificate has no fingerprint line")
}

// fingerprint creates dir's relay keys and returns the RSA identity
// fingerprint.
func (n *Network) fingerprint(ctx context.Context, empty, dir, nick string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("tornet: %w", err)
	}
	cmd := exec.CommandContext(ctx, n.opt.TorPath, "--list-fingerprint", "--defaults-torrc", empty, "-f", empty,
		"--DataDirectory", dir, "--ORPort", "1", "--Nickname", nick, "--quiet")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("tornet: tor --list-fingerprint: %w: %s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "fingerprint"))
	if err != nil {
		return "", fmt.Errorf("tornet: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || len(f[1]) != 40 {
		return "", fmt.Errorf("tornet: malformed fingerprint file %q", b)
	}
	return f[1], nil
}

// waitConsensus polls the authority until its consensus lists every node
// in n.Nicknames with the Running flag.
func (n *Network) waitConsensus(ctx context.Context) error {
	a := n.Authorities[0]
	url := fmt.Sprintf("http://127.0.0.1:%d/tor/status-vote/current/consensus", a.DirPort)
	hc := &http.Client{Timeout: 2 * time.Second}
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		// tor answers Go's default "gzip" with deflate, which net/http
		// does not undo: ask for plain text.
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := hc.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
			resp.Body.Close()
			running := RunningRelays(body)
			missing := 0
			for _, nick := range n.Nicknames {
				if !running[nick] {
					missing++
				}
			}
			if resp.StatusCode == http.StatusOK && missing == 0 {
				n.opt.Logf("tornet: consensus lists all %d relays as Running", len(n.Nicknames))
				return nil
			}
			last = fmt.Sprintf("HTTP %d, %d of %d relays missing", resp.StatusCode, missing, len(n.Nicknames))
		} else {
			last = err.Error()
		}
		if err := n.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tornet: consensus not ready (%s): %w", last, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// exited returns an error naming the first node that has exited, with
// the end of its log.
func (n *Network) exited() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.procs {
		select {
		case <-p.done:
			log, _ := os.ReadFile(filepath.Join(n.Dir, p.nick, "stdout.log"))
			if len(log) > 600 {
				log = log[len(log)-600:]
			}
			return fmt.Errorf("tornet: %s exited: %v\n%s", p.nick, p.err, log)
		default:
		}
	}
	return nil
}

// RunningRelays parses a network-status consensus and returns the
// nicknames whose "s" line carries the Running flag.
func RunningRelays(consensus []byte) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(consensus))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	cur := ""
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "r":
			cur = ""
			if len(f) > 1 {
				cur = f[1]
			}
		case "s":
			for _, flag := range f[1:] {
				if flag == "Running" && cur != "" {
					out[cur] = true
				}
			}
		}
	}
	return out
}

// waitBridgeLine waits for the bridge's obfs4proxy to write its bridge
// line and fills in the address and fingerprint.
func (n *Network) waitBridgeLine(ctx context.Context, dir string, port int, fp string) (string, error) {
	p := filepath.Join(dir, "pt_state", "obfs4_bridgeline.txt")
	for {
		if b, err := os.ReadFile(p); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				// "Bridge obfs4 <IP ADDRESS>:<PORT> <FINGERPRINT> cert=... iat-mode=0"
				l = strings.Replace(l, "<IP ADDRESS>:<PORT>", "127.0.0.1:"+strconv.Itoa(port), 1)
				l = strings.Replace(l, "<FINGERPRINT>", fp, 1)
				f := strings.Fields(l)
				if len(f) >= 5 && f[0] == "Bridge" && f[1] == "obfs4" && strings.HasPrefix(f[4], "cert=") {
					return strings.Join(f[1:], " "), nil
				}
			}
		}
		if err := n.exited(); err != nil {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("tornet: no obfs4 bridge line in %s: %w", p, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago.
func freePorts(n int) ([]int, error) {
	ps, err := ports.Free(n, false)
	if err != nil {
		return nil, fmt.Errorf("tornet: %w", err)
	}
	return ps, nil
}
