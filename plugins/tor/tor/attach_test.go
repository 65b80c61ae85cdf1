package tor

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/internal/testnet/tornet"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// externalTor is a tor this test started itself, for the transport to
// attach to.
type externalTor struct {
	pid                 int
	control, socks, dir string
	done                chan struct{} // closed when the process has exited
}

// alive reports whether the process is still running (not reaped, and
// signal 0 reaches it).
func (x *externalTor) alive() bool {
	select {
	case <-x.done:
		return false
	default:
	}
	return syscall.Kill(x.pid, 0) == nil
}

// freePort returns a loopback TCP port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// hashPassword asks tor for the HashedControlPassword value of pw.
func hashPassword(t *testing.T, pw string) string {
	t.Helper()
	out, err := exec.Command("/usr/sbin/tor", "--quiet", "--hash-password", pw).Output()
	if err != nil {
		t.Fatalf("tor --hash-password: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "16:") {
			return l
		}
	}
	t.Fatalf("tor --hash-password printed no hash: %q", out)
	return ""
}

// startExternalTor runs a tor joined to the private network with a
// control port (cookie authentication, or hashedPassword when set) and a
// SOCKS port, and kills it by pid at cleanup.
func startExternalTor(t *testing.T, n *tornet.Network, hashedPassword string) *externalTor {
	t.Helper()
	return startExternalTorAt(t, n, hashedPassword, fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t)))
}

// startExternalTorAt is startExternalTor on given control and SOCKS
// addresses.
func startExternalTorAt(t *testing.T, n *tornet.Network, hashedPassword, control, socks string) *externalTor {
	t.Helper()
	dir := t.TempDir()
	x := &externalTor{dir: dir, done: make(chan struct{}), control: control, socks: socks}
	lines := append(n.ClientTorrc(), "DataDirectory "+filepath.Join(dir, "data"),
		"ControlPort "+x.control, "SocksPort "+x.socks)
	if hashedPassword != "" {
		lines = append(lines, "HashedControlPassword "+hashedPassword)
	} else {
		lines = append(lines, "CookieAuthentication 1")
	}
	torrc, empty := filepath.Join(dir, "torrc"), filepath.Join(dir, "empty")
	if err := os.WriteFile(torrc, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command("/usr/sbin/tor", "-f", torrc, "--defaults-torrc", empty)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	x.pid = cmd.Process.Pid
	go func() { cmd.Wait(); close(x.done) }()
	t.Cleanup(func() {
		syscall.Kill(x.pid, syscall.SIGKILL)
		<-x.done
		if t.Failed() {
			t.Logf("external tor output:\n%s", log.String())
		}
	})
	// Its control port answers once tor has parsed its config.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", x.control)
		if err == nil {
			c.Close()
			return x
		}
		if !x.alive() || time.Now().After(deadline) {
			t.Fatalf("external tor: control port %s never answered: %v", x.control, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// attachTransport makes a transport attached to control (body holds the
// attach keys) whose plugin data directory is dataDir.
func attachTransport(t *testing.T, dataDir, body string) *Transport {
	t.Helper()
	body += "dial_timeout = \"20s\"\nstart_wait = \"40s\"\n"
	tr := New(WithLogger(hclog.New(&hclog.LoggerOptions{Name: "tor-attach", Level: logLevel()})))
	if err := tr.Configure(context.Background(), base.Config{Filename: "attach.hcl", Body: []byte(body), DataDir: dataDir}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop(context.Background()) })
	return tr
}

// sendUntil sends data from → addr until rec holds more than have
// packets (a stream to a node that went away is redialled).
func sendUntil(t *testing.T, from *Transport, addr string, rec *transporttest.Recorder, have int, data string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(120 * time.Second)
	for rec.Len() <= have {
		if time.Now().After(deadline) {
			t.Fatalf("no packet reached %s", addr)
		}
		if err := from.Send(ctx, []transport.Packet{{Addr: addr, Data: []byte(data)}}); err != nil {
			t.Fatal(err)
		}
		rec.Wait(2*time.Second, func(p []transport.Packet, _ []transport.Event) bool { return len(p) > have })
	}
	// Retries may deliver earlier copies late: any new packet must be one
	// this call sent.
	for i, got := range rec.Packets()[have:] {
		if string(got.Data) != data {
			t.Fatalf("packet %d to %s = %q, want %q", have+i, addr, got.Data, data)
		}
	}
}

// TestAttachMode: a transport attached to a tor it did not start (cookie
// and password authentication, SOCKS port asked from tor or configured)
// exchanges packets with a managed one over onion services, keeps its
// onion address across a Stop and a new transport on the same data
// directory (the key is persisted there in attach mode too), and leaves
// the attached tor running when it stops.
func TestAttachMode(t *testing.T) {
	n := privateNet(t)
	m := newTransport(t, n.ClientTorrc(), "")
	rm := new(transporttest.Recorder)
	begin := time.Now()
	if _, err := m.Start(context.Background(), rm); err != nil {
		t.Fatal(err)
	}
	// A network that has just come up may take a while to carry circuits.
	rm.WaitEvent(t, 120*time.Second, func(ev transport.Event) bool { return ev.State == transport.StateReady })
	t.Logf("managed transport ready after %v", time.Since(begin).Round(time.Millisecond))
	for _, variant := range []struct {
		name, password string
		socksKey       bool
	}{{"cookie", "", false}, {"password", "attach-secret", true}} {
		t.Run(variant.name, func(t *testing.T) {
			begin := time.Now()
			hashed := ""
			if variant.password != "" {
				hashed = hashPassword(t, variant.password)
			}
			x := startExternalTor(t, n, hashed)
			body := fmt.Sprintf("control_addr = %q\n", x.control)
			if variant.password != "" {
				body += fmt.Sprintf("control_password = %q\n", variant.password)
			}
			if variant.socksKey {
				body += fmt.Sprintf("socks_addr = %q\n", x.socks)
			}
			dataDir := t.TempDir()
			a := attachTransport(t, dataDir, body)
			ra := new(transporttest.Recorder)
			addrs, err := a.Start(context.Background(), ra)
			if err != nil {
				t.Fatal(err)
			}
			if len(addrs) != 1 || checkAddr(addrs[0]) != nil {
				t.Fatalf("addresses %q", addrs)
			}
			// Start returns once the monitor is ready; the ready event
			// itself reaches the host right after, asynchronously.
			if !ra.Wait(10*time.Second, func(_ []transport.Packet, evs []transport.Event) bool {
				for _, ev := range evs {
					if ev.State == transport.StateReady {
						return true
					}
				}
				return false
			}) {
				t.Fatalf("Start returned before ready: %+v", ra.Events())
			}
			if a.TorPID() != 0 {
				t.Fatalf("attached transport claims a managed tor pid %d", a.TorPID())
			}
			a.mu.Lock()
			socks := a.in.socks
			a.mu.Unlock()
			if socks != x.socks {
				t.Fatalf("SOCKS %q, want %q", socks, x.socks)
			}
			if _, err := os.Stat(filepath.Join(dataDir, "tor", KeyFile)); err != nil {
				t.Fatalf("onion key not persisted in attach mode: %v", err)
			}
			t.Logf("%s: attached and ready after %v", variant.name, time.Since(begin).Round(time.Millisecond))

			// Both ways over onion services.
			sendUntil(t, m, a.Addr(), ra, 0, "managed→attached "+variant.name)
			sendUntil(t, a, m.Addr(), rm, rm.Len(), "attached→managed "+variant.name)

			// Stop leaves the attached tor running.
			if err := a.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !x.alive() {
				t.Fatal("Stop in attach mode killed the external tor")
			}
			c, _, err := dialControl(context.Background(), x.control, variant.password)
			if err != nil {
				t.Fatalf("external tor's control port after Stop: %v", err)
			}
			c.Close()

			// A new transport on the same data directory has the same
			// address; tor accepting the same key again also shows the
			// old service went away with the old control connection.
			b := attachTransport(t, dataDir, body)
			rb := new(transporttest.Recorder)
			if _, err := b.Start(context.Background(), rb); err != nil {
				t.Fatal(err)
			}
			if b.Addr() != addrs[0] {
				t.Fatalf("onion address changed across re-attach: %s → %s", addrs[0], b.Addr())
			}
			sendUntil(t, m, b.Addr(), rb, 0, "managed→reattached "+variant.name)
			if err := b.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !x.alive() {
				t.Fatal("second Stop in attach mode killed the external tor")
			}
			t.Logf("%s: done in %v", variant.name, time.Since(begin).Round(time.Millisecond))
		})
	}
	t.Run("control_lost", func(t *testing.T) { testControlLost(t, n, m, rm) })
}

// testControlLost (part of TestAttachMode): when the attached tor goes away the
// transport notices (its events connection ends), reports tor_restart
// with the reason, and reattaches once a tor answers on the control
// address again: same onion address, packets flow out again.
// m is a ready managed transport.
func testControlLost(t *testing.T, n *tornet.Network, m *Transport, rm *transporttest.Recorder) {
	ctx := context.Background()
	x := startExternalTor(t, n, "")
	a := attachTransport(t, t.TempDir(), fmt.Sprintf("control_addr = %q\n", x.control))
	ra := new(transporttest.Recorder)
	addrs, err := a.Start(ctx, ra)
	if err != nil {
		t.Fatal(err)
	}
	sendUntil(t, m, a.Addr(), ra, 0, "before")
	begin := time.Now()
	if err := syscall.Kill(x.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-x.done
	lost := ra.WaitEvent(t, 10*time.Second, func(ev transport.Event) bool { return ev.Phase == "tor_restart" })
	if !strings.Contains(lost.Reason, "control connection to "+x.control+" lost") {
		t.Fatalf("tor_restart reason %q", lost.Reason)
	}
	t.Logf("loss noticed after %v: %s", time.Since(begin).Round(time.Millisecond), lost.Reason)
	startExternalTorAt(t, n, "", x.control, x.socks)
	ra.WaitEvent(t, 60*time.Second, func(ev transport.Event) bool {
		return ev.State == transport.StateReady && ev.Time.After(lost.Time)
	})
	t.Logf("ready again %v after the kill", time.Since(begin).Round(time.Millisecond))
	if a.Addr() != addrs[0] || a.Stats().Restarts != 1 {
		t.Fatalf("after reattach: address %s (was %s), restarts %d", a.Addr(), addrs[0], a.Stats().Restarts)
	}
	// Outbound through the new tor (m's tor may still hold the old
	// descriptor of a's service, whose introduction points died with the
	// old tor, so inbound recovery is tor's business and slower).
	sendUntil(t, a, m.Addr(), rm, rm.Len(), "after reattach")
	t.Logf("reattached and delivering %v after the kill", time.Since(begin).Round(time.Millisecond))
}

// TestAttachModeRefusesManagedKeys: torrc, bridges and transport_plugins
// configure a tor the plugin starts, so with control_addr they are an
// error positioned at the control_addr attribute that names them; without
// control_addr the same keys are accepted.
func TestAttachModeRefusesManagedKeys(t *testing.T) {
	managed := "torrc = [\"ClientUseIPv6 0\"]\nbridges = [\"obfs4 127.0.0.1:5 0123456789ABCDEF0123456789ABCDEF01234567 cert=AA iat-mode=0\"]\n" +
		"transport_plugins = { obfs4 = \"/usr/bin/obfs4proxy\" }\n"
	for _, key := range []string{"torrc", "bridges", "transport_plugins"} {
		var line string
		for _, l := range strings.Split(managed, "\n") {
			if strings.HasPrefix(l, key+" ") {
				line = l + "\n"
			}
		}
		body := "\ncontrol_addr = \"127.0.0.1:9051\"\n" + line
		err := New().Configure(context.Background(), base.Config{Filename: "a.hcl", Body: []byte(body), DataDir: t.TempDir()})
		if err == nil {
			t.Fatalf("%s accepted in attach mode", key)
		}
		if !strings.Contains(err.Error(), "a.hcl:2:1: control_addr") || !strings.Contains(err.Error(), key) {
			t.Fatalf("%s: error %q lacks the position of control_addr or the key's name", key, err)
		}
		if err := New().Configure(context.Background(), base.Config{Filename: "a.hcl", Body: []byte(line), DataDir: t.TempDir()}); err != nil {
			t.Fatalf("%s refused in managed mode: %v", key, err)
		}
	}
}
