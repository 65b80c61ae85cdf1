package i2pnet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/pidfile"
	"github.com/onemfive/onemfive/internal/testnet/ports"
	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
)

// Options configure Start. The zero value is four routers, two of them
// floodfills, net id 99, no SAM, in a temporary directory.
type Options struct {
	// Dir holds every router's data directory, config and log, the seed
	// zip, the pid file and the client options. Default: a new temporary
	// directory, removed by Stop.
	Dir string
	// Routers is the number of routers, at least 3. Default 4.
	Routers int
	// Floodfills is how many of them are floodfills, at least 1. Default 2.
	Floodfills int
	// SAM enables a SAM bridge on every router.
	SAM bool
	// NetID is the private network id. Default 99 (the public net is 2).
	NetID int
	// I2PDPath locates i2pd (default: i2pd.DefaultPath, then PATH).
	I2PDPath string
	// Detach starts i2pd in its own session without a parent-death
	// signal, so the network outlives this process (the CLI's `up`).
	Detach bool
	// Logf, if set, gets progress lines.
	Logf func(format string, args ...any)
	// LogLevel is i2pd's log level (error, warn, info, debug). Default
	// warn; info also records peer connections, bans and lease set
	// lookups, which Diagnose picks out.
	LogLevel string
}

// Router is one router of the network.
type Router struct {
	Name        string
	Dir         string
	Port        int // NTCP2 (TCP) and SSU2 (UDP)
	SAMPort     int // 0 without SAM
	ControlPort int // I2PControl (HTTPS, password ControlPassword)
	Floodfill   bool
}

// SAMAddr is the router's SAM bridge, "" without SAM.
func (r Router) SAMAddr() string {
	if r.SAMPort == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", r.SAMPort)
}

// Network is a running private I2P network.
type Network struct {
	Dir     string
	SeedZip string
	NetID   int
	Routers []Router
	Binary  i2pd.Binary

	opt     Options
	tempDir bool
	mu      sync.Mutex
	procs   map[string]*proc
	stopped bool
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Files Start writes into Options.Dir, and the I2PControl password of
// every router.
const (
	PidFile         = pidfile.Name
	ClientFile      = "client.opts"
	SeedFile        = "seed.zip"
	ControlPassword = "i2pnet"
)

// Start configures, seeds and starts the routers and waits until they
// have found each other. It refuses to run outside a loopback-only
// network namespace and refuses an i2pd older than 2.51. On failure it
// stops what it started.
func Start(ctx context.Context, opt Options) (_ *Network, err error) {
	if err := Isolated(); err != nil {
		return nil, err
	}
	if opt.Routers == 0 {
		opt.Routers = 4
	}
	if opt.Floodfills == 0 {
		opt.Floodfills = 2
	}
	if opt.NetID == 0 {
		opt.NetID = 99
	}
	if opt.LogLevel == "" {
		opt.LogLevel = "warn"
	}
	switch {
	case opt.Routers < 3:
		return nil, fmt.Errorf("i2pnet: %d routers: tunnels need at least 3", opt.Routers)
	case opt.Floodfills < 1 || opt.Floodfills > opt.Routers:
		return nil, fmt.Errorf("i2pnet: %d floodfills of %d routers", opt.Floodfills, opt.Routers)
	case opt.NetID == 2:
		return nil, errors.New("i2pnet: net id 2 is the public I2P network")
	case !slices.Contains([]string{"error", "warn", "info", "debug"}, opt.LogLevel):
		return nil, fmt.Errorf("i2pnet: log level %q: want error, warn, info or debug", opt.LogLevel)
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	bin, err := i2pd.Find(ctx, opt.I2PDPath)
	if err != nil {
		return nil, err
	}
	n := &Network{Binary: bin, NetID: opt.NetID, opt: opt, procs: map[string]*proc{}}
	if opt.Dir == "" {
		if opt.Dir, err = os.MkdirTemp("", "i2pnet-"); err != nil {
			return nil, fmt.Errorf("i2pnet: %w", err)
		}
		n.tempDir = true
	}
	if n.Dir, err = filepath.Abs(opt.Dir); err != nil {
		return nil, fmt.Errorf("i2pnet: %w", err)
	}
	n.SeedZip = filepath.Join(n.Dir, SeedFile)
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

// privateOptions are what every router of the network, and every router
// joining it, shares: the net id, loopback addresses, local reseed only,
// one-hop exploratory tunnels (a handful of routers cannot give many
// distinct hops).
func (n *Network) privateOptions() i2pd.Options {
	return i2pd.Quiet().Merge(i2pd.Options{
		"netid": strconv.Itoa(n.NetID), "host": "127.0.0.1", "nat": "false", "reservedrange": "false",
		"ntcp2.enabled": "true", "ntcp2.published": "true", "ssu2.enabled": "true", "ssu2.published": "true",
		"reseed.verify": "false", "reseed.urls": "", "reseed.yggurls": "", "reseed.zipfile": n.SeedZip,
		"reseed.threshold":           "0",
		"exploratory.inbound.length": "1", "exploratory.outbound.length": "1",
		"shareddest.inbound.length": "1", "shareddest.outbound.length": "1",
	})
}

// ClientOptions are the i2pd settings for a router that joins this
// network (the i2p plugin's `i2pd = { ... }` map).
func (n *Network) ClientOptions() i2pd.Options {
	o := n.privateOptions()
	for k := range i2pd.Quiet() {
		delete(o, k) // the plugin sets these itself
	}
	return o
}

func (n *Network) routerOptions(r Router, seeded bool) i2pd.Options {
	o := n.privateOptions().Merge(i2pd.Options{
		"port": strconv.Itoa(r.Port), "floodfill": strconv.FormatBool(r.Floodfill),
		"i2pcontrol.enabled": "true", "i2pcontrol.address": "127.0.0.1",
		"i2pcontrol.port": strconv.Itoa(r.ControlPort), "i2pcontrol.password": ControlPassword,
	})
	if r.SAMPort != 0 {
		o = o.Merge(i2pd.Options{"sam.enabled": "true", "sam.address": "127.0.0.1", "sam.port": strconv.Itoa(r.SAMPort)})
	}
	if !seeded {
		o["reseed.zipfile"] = ""
	}
	return o
}

func (n *Network) start(ctx context.Context) error {
	if err := os.MkdirAll(n.Dir, 0o700); err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	per := 2
	if n.opt.SAM {
		per = 3
	}
	ports, err := FreePorts(n.opt.Routers * per)
	if err != nil {
		return err
	}
	for i := range n.opt.Routers {
		r := Router{Name: fmt.Sprintf("r%d", i+1), Port: ports[i*per], ControlPort: ports[i*per+1], Floodfill: i < n.opt.Floodfills}
		if n.opt.SAM {
			r.SAMPort = ports[i*per+2]
		}
		r.Dir = filepath.Join(n.Dir, r.Name)
		n.Routers = append(n.Routers, r)
	}
	// First start: each router makes its keys and writes router.info;
	// those files become the seed every router reseeds from.
	var infos [][]byte
	for _, r := range n.Routers {
		ri, err := n.firstStart(ctx, r)
		if err != nil {
			return err
		}
		infos = append(infos, ri)
	}
	var zb bytes.Buffer
	if err := WriteSeedZip(&zb, infos); err != nil {
		return err
	}
	if err := os.WriteFile(n.SeedZip, zb.Bytes(), 0o600); err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	for _, r := range n.Routers {
		if err := n.spawn(r, true); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(n.Dir, ClientFile), []byte(formatOptions(n.ClientOptions())), 0o600); err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	n.opt.Logf("i2pnet: started %d i2pd %s routers (%d floodfills, net id %d) in %s; waiting for them to find each other",
		len(n.Routers), i2pd.VersionString(n.Binary.Version), n.opt.Floodfills, n.NetID, n.Dir)
	return n.WaitReady(ctx)
}

// firstStart runs a router until its router.info appears and returns it.
func (n *Network) firstStart(ctx context.Context, r Router) ([]byte, error) {
	if err := n.spawn(r, false); err != nil {
		return nil, err
	}
	defer n.kill(r.Name)
	path := filepath.Join(r.Dir, "router.info")
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > identityFixed {
			if _, err := IdentityHash(b); err == nil {
				return b, nil
			}
		}
		if err := n.exited(); err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("i2pnet: %s wrote no router.info: %w", r.Name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// spawn writes r's config and starts its i2pd, recording the pid.
func (n *Network) spawn(r Router, seeded bool) error {
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	conf := filepath.Join(r.Dir, "i2pd.conf")
	tun := filepath.Join(r.Dir, "tunnels.conf")
	if err := os.WriteFile(conf, []byte(n.routerOptions(r, seeded).Render()), 0o600); err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	if err := os.WriteFile(tun, nil, 0o600); err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(r.Dir, "stdout.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(n.Binary.Path, "--datadir="+r.Dir, "--conf="+conf, "--tunconf="+tun,
		"--pidfile="+filepath.Join(r.Dir, "i2pd.pid"), "--log=stdout", "--loglevel="+n.opt.LogLevel)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = r.Dir
	if n.opt.Detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return errors.New("i2pnet: stopped")
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("i2pnet: start %s: %w", r.Name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	n.procs[r.Name] = p
	return pidfile.Add(n.Dir, cmd.Process.Pid, r.Name)
}

// kill stops the named router and waits for it.
func (n *Network) kill(name string) {
	n.mu.Lock()
	p := n.procs[name]
	delete(n.procs, name)
	n.mu.Unlock()
	if p != nil {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// KillRouters kills every router (kill -9) and waits for them: a client
// router then has no peers left. RestartRouters brings them back.
func (n *Network) KillRouters() {
	for _, r := range n.Routers {
		n.kill(r.Name)
	}
}

// RestartRouters starts every router that is not running, with its old
// keys and ports, and waits until the network is ready again.
func (n *Network) RestartRouters(ctx context.Context) error {
	for _, r := range n.Routers {
		n.mu.Lock()
		_, running := n.procs[r.Name]
		n.mu.Unlock()
		if !running {
			if err := n.spawn(r, true); err != nil {
				return err
			}
		}
	}
	return n.WaitReady(ctx)
}

// WaitReady polls every router's I2PControl until each knows all the
// others and has a transport session up, and each SAM bridge answers.
func (n *Network) WaitReady(ctx context.Context) error {
	ctls := make([]*i2pd.Control, len(n.Routers))
	for i, r := range n.Routers {
		ctls[i] = &i2pd.Control{Addr: fmt.Sprintf("127.0.0.1:%d", r.ControlPort), Password: ControlPassword}
	}
	var last string
	for {
		ready := 0
		for i, r := range n.Routers {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := ctls[i].Stats(cctx)
			if err == nil && r.SAMPort != 0 {
				err = SAMHello(cctx, r.SAMAddr())
			}
			cancel()
			switch {
			case err != nil:
				last = fmt.Sprintf("%s: %v", r.Name, err)
			case st.KnownPeers < len(n.Routers)-1 || st.ActivePeers < 1:
				last = fmt.Sprintf("%s knows %d routers, %d connected", r.Name, st.KnownPeers, st.ActivePeers)
			default:
				ready++
			}
		}
		if ready == len(n.Routers) {
			n.opt.Logf("i2pnet: all %d routers know each other", ready)
			return nil
		}
		if err := n.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("i2pnet: network not ready (%s): %w", last, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// SAMHello checks that a SAM bridge answers HELLO, bounded by ctx.
func SAMHello(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("i2pnet: sam %s: %w", addr, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte("HELLO VERSION MIN=3.0 MAX=3.3\n")); err != nil {
		return fmt.Errorf("i2pnet: sam %s: %w", addr, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("i2pnet: sam %s: hello: %w", addr, err)
	}
	if !bytes.HasPrefix([]byte(line), []byte("HELLO REPLY RESULT=OK")) {
		return fmt.Errorf("i2pnet: sam %s: hello: %q", addr, line)
	}
	return nil
}

// exited names a router that has exited unexpectedly, with its log's end.
func (n *Network) exited() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for name, p := range n.procs {
		select {
		case <-p.done:
			log, _ := os.ReadFile(filepath.Join(n.Dir, name, "stdout.log"))
			if len(log) > 800 {
				log = log[len(log)-800:]
			}
			return fmt.Errorf("i2pnet: %s exited: %v\n%s", name, p.err, log)
		default:
		}
	}
	return nil
}

// PIDs returns the pids of the running routers.
func (n *Network) PIDs() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []int
	for _, p := range n.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// Stop kills every router, waits for them and removes a temporary Dir.
// It is idempotent.
func (n *Network) Stop() {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return
	}
	n.stopped = true
	procs := n.procs
	n.procs = map[string]*proc{}
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

// FreePorts returns n distinct ports on 127.0.0.1 that were free a moment
// ago for both TCP and UDP, below the ephemeral range so that a restarted
// router gets its ports back (internal/testnet/ports).
func FreePorts(n int) ([]int, error) {
	ps, err := ports.Free(n, true)
	if err != nil {
		return nil, fmt.Errorf("i2pnet: %w", err)
	}
	return ps, nil
}
