package tor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/cretz/bine/control"
	"github.com/cretz/bine/process"
	bine "github.com/cretz/bine/tor"
)

// instance is one connection to one tor: a managed process (cmd set) or
// an attached one. Its events connection is separate from the command
// connection, so a slow command never delays events and bine's event
// reader never holds up a command.
type instance struct {
	tor *bine.Tor
	cmd *exec.Cmd // managed tor only
	// exited is closed when the managed process has exited or, attached,
	// when the events connection to tor is lost (lost holds why).
	exited chan struct{}
	lost   error
	events *control.Conn
	evNet  net.Conn // the events connection's socket, closed directly
	socks  string
	evCh   chan control.Event
	cancel context.CancelFunc // stops the event reader
	once   sync.Once
}

// eventCodes are the tor events the monitor reads.
var eventCodes = []control.EventCode{control.EventCodeStatusClient, control.EventCodeStatusGeneral,
	control.EventCodeHSDesc, control.EventCodeCircuit}

// startInstance starts or attaches to tor, subscribes to its events and
// switches its network on. life bounds the managed process: cancelling it
// kills tor.
func (t *Transport) startInstance(ctx, life context.Context) (_ *instance, err error) {
	in := &instance{evCh: make(chan control.Event, 256)}
	defer func() {
		if err != nil {
			in.close()
		}
	}()
	var controlAddr string
	if t.cfg.controlAddr == "" {
		if err := os.MkdirAll(t.cfg.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("tor: data dir: %w", err)
		}
		torrc := filepath.Join(t.cfg.dataDir, "onemfive.torrc")
		body := strings.Join(t.cfg.torrcLines(), "\n") + "\n"
		if err := os.WriteFile(torrc, []byte(body), 0o600); err != nil {
			return nil, fmt.Errorf("tor: torrc: %w", err)
		}
		exe, err := findTor(t.cfg.torPath)
		if err != nil {
			return nil, err
		}
		exited := make(chan struct{})
		empty := filepath.Join(t.cfg.dataDir, "empty-defaults.torrc")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			return nil, fmt.Errorf("tor: torrc: %w", err)
		}
		creator := process.CmdCreatorFunc(func(pctx context.Context, args ...string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(pctx, exe, args...)
			cmd.Stdout, cmd.Stderr = t.torLog, t.torLog
			// tor dies with the plugin, even on kill -9 of the plugin.
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			in.cmd = cmd
			return cmd, nil
		})
		in.tor, err = bine.Start(life, &bine.StartConf{ProcessCreator: creator, DataDir: t.cfg.dataDir,
			TorrcFile: torrc, ExtraArgs: []string{"--defaults-torrc", empty},
			NoHush: true})
		if err != nil {
			return nil, fmt.Errorf("tor: start %s: %w", exe, err)
		}
		proc := in.tor.Process // close hides it from bine: read it here, not in the goroutine
		go func() {
			proc.Wait()
			close(exited)
		}()
		in.exited = exited
		controlAddr = fmt.Sprintf("127.0.0.1:%d", in.tor.ControlPort)
	} else {
		controlAddr = t.cfg.controlAddr
		c, _, err := dialControl(ctx, controlAddr, t.cfg.password)
		if err != nil {
			return nil, err
		}
		in.tor = &bine.Tor{Control: c}
		in.exited = make(chan struct{})
	}
	if in.events, in.evNet, err = dialControl(ctx, controlAddr, t.cfg.password); err != nil {
		return nil, err
	}
	if err := in.events.AddEventListener(in.evCh, eventCodes...); err != nil {
		return nil, fmt.Errorf("tor: subscribe to events: %w", err)
	}
	ectx, cancel := context.WithCancel(life)
	in.cancel = cancel
	go func() {
		err := in.events.HandleEvents(ectx)
		if in.cmd == nil && ectx.Err() == nil {
			// An attached tor went away (or dropped us): the supervisor
			// reattaches as it restarts a managed tor.
			in.lost = err
			close(in.exited)
		}
	}()
	// Where bootstrap stands now (an attached tor may be done already).
	if kv, err := in.tor.Control.GetInfo("status/bootstrap-phase"); err == nil && len(kv) == 1 {
		in.evCh <- control.ParseStatusEvent(control.EventCodeStatusClient, kv[0].Val)
	}
	if in.cmd != nil {
		if err := in.tor.EnableNetwork(ctx, false); err != nil {
			return nil, fmt.Errorf("tor: enable network: %w", err)
		}
	}
	if in.socks = t.cfg.socksAddr; in.socks == "" {
		kv, err := in.tor.Control.GetInfo("net/listeners/socks")
		if err != nil || len(kv) != 1 {
			return nil, fmt.Errorf("tor: no SOCKS listener: %v", err)
		}
		in.socks = strings.Trim(strings.Fields(kv[0].Val + " ")[0], `"`)
		if strings.HasPrefix(in.socks, "unix:") {
			return nil, fmt.Errorf("tor: SOCKS listener %s is a unix socket; set socks_addr", in.socks)
		}
	}
	return in, nil
}

// pid is the managed tor's process id, 0 when attached.
func (in *instance) pid() int {
	if in == nil || in.cmd == nil || in.cmd.Process == nil {
		return 0
	}
	return in.cmd.Process.Pid
}

// close stops the event reader, closes the control connections and, for
// a managed tor, halts it and waits for it.
func (in *instance) close() {
	in.once.Do(func() {
		if in.cancel != nil {
			in.cancel()
		}
		// Not events.Close: its QUIT waits for the read lock that the
		// event reader holds while it waits for the next event.
		if in.evNet != nil {
			in.evNet.Close()
		}
		if in.tor != nil {
			if in.cmd != nil {
				// bine's Close would Wait for the process too, racing the
				// goroutine that already does (exec.Cmd.Wait is not safe
				// to call twice): hide the process from it, HALT, kill.
				in.tor.Process = nil
				in.tor.Close()
				if in.cmd.Process != nil {
					in.cmd.Process.Kill()
				}
				if in.exited != nil {
					<-in.exited
				}
				if in.tor.ProcessCancelFunc != nil {
					in.tor.ProcessCancelFunc()
				}
			} else if in.tor.Control != nil {
				in.tor.Control.Close()
			}
		}
	})
}

// addOnion publishes the onion service with key (nil: a new key) and
// returns the service id and the key tor used.
func (in *instance) addOnion(key control.Key, virtPort int, target string) (string, control.Key, error) {
	if key == nil {
		key = control.GenKey(control.KeyAlgoED25519V3)
	}
	resp, err := in.tor.Control.AddOnion(&control.AddOnionRequest{Key: key,
		Ports: []*control.KeyVal{{Key: fmt.Sprint(virtPort), Val: target}}})
	if err != nil {
		return "", nil, fmt.Errorf("tor: add onion: %w", err)
	}
	if resp.Key != nil {
		key = resp.Key
	}
	return resp.ServiceID, key, nil
}

func dialControl(ctx context.Context, addr, password string) (*control.Conn, net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("tor: control port %s: %w", addr, err)
	}
	c := control.NewConn(textproto.NewConn(nc))
	if err := c.Authenticate(password); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("tor: control port %s: authenticate: %w", addr, err)
	}
	return c, nc, nil
}

func findTor(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p, err := exec.LookPath("tor"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/tor", "/usr/bin/tor"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("tor: no tor executable found: install tor or set tor_path")
}

// loadKey reads the persisted onion key; a missing file is (nil, nil).
func loadKey(path string) (control.Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tor: onion key: %w", err)
	}
	k, err := control.KeyFromString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("tor: onion key %s: %w", path, err)
	}
	if _, ok := k.(*control.ED25519Key); !ok {
		return nil, fmt.Errorf("tor: onion key %s: not an ED25519-V3 key", path)
	}
	return k, nil
}

// saveKey writes the onion key (mode 0600) atomically.
func saveKey(path string, k control.Key) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("tor: onion key: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(string(k.Type())+":"+k.Blob()+"\n"), 0o600); err != nil {
		return fmt.Errorf("tor: onion key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tor: onion key: %w", err)
	}
	return nil
}
