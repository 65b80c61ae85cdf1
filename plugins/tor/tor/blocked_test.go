package tor

import (
	"context"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/tornet"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// TestBlockedWhenAuthorityUnreachable: a tor whose only directory
// authority is not listening reports blocked, with a reason, within the
// configured deadline (and Start still returns the onion address).
func TestBlockedWhenAuthorityUnreachable(t *testing.T) {
	if err := tornet.Isolated(); err != nil {
		t.Skipf("needs a loopback-only network namespace to run tor (make test provides one): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now: a stopped authority
	dead := tornet.Authority{Nickname: "gone", ORPort: port, DirPort: port,
		V3Ident: strings.Repeat("A", 40), RSAFP: strings.Repeat("B", 40)}
	tr := newTransport(t, tornet.ClientLines([]tornet.Authority{dead}), "bootstrap_deadline = \"5s\"\nstart_wait = \"1s\"\n")
	rec := new(transporttest.Recorder)
	addrs, err := tr.Start(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || checkAddr(addrs[0]) != nil {
		t.Fatalf("addresses %q", addrs)
	}
	ev := rec.WaitEvent(t, 30*time.Second, func(ev transport.Event) bool { return ev.State == transport.StateBlocked })
	if ev.Reason == "" {
		t.Fatalf("blocked without a reason: %+v", ev)
	}
	t.Logf("blocked: %s", ev.Reason)
}

// TestRestartAfterKill9: kill -9 of the managed tor is detected, tor is
// restarted, the onion address is the same and packets flow again.
func TestRestartAfterKill9(t *testing.T) {
	n := privateNet(t)
	a, b := newTransport(t, n.ClientTorrc(), ""), newTransport(t, n.ClientTorrc(), "")
	ra, rb := new(transporttest.Recorder), new(transporttest.Recorder)
	ctx := context.Background()
	if _, err := a.Start(ctx, ra); err != nil {
		t.Fatal(err)
	}
	addrs, err := b.Start(ctx, rb)
	if err != nil {
		t.Fatal(err)
	}
	before, pid := b.Addr(), b.TorPID()
	if pid == 0 {
		t.Fatal("no tor pid")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	rb.WaitEvent(t, 20*time.Second, func(ev transport.Event) bool { return ev.Phase == "tor_restart" })
	rb.WaitEvent(t, 120*time.Second, func(ev transport.Event) bool {
		return ev.State == transport.StateReady && ev.Time.After(time.Now().Add(-2*time.Minute)) && b.TorPID() != pid && b.TorPID() != 0
	})
	if b.Addr() != before || addrs[0] != before {
		t.Fatalf("onion address changed: %s → %s", before, b.Addr())
	}
	if b.Stats().Restarts != 1 {
		t.Fatalf("restarts = %d", b.Stats().Restarts)
	}
	// Packets reach the restarted node (a's old stream died with b's tor;
	// a redials, and its tor may first try the introduction points of the
	// descriptor it cached before the kill).
	sendUntil(t, a, before, rb, 0, "after restart")
}

// TestObfs4Bridge: a transport that reaches the network only through the
// private network's obfs4 bridge (bridges and transport_plugins keys)
// bootstraps and exchanges packets with a directly connected one.
func TestObfs4Bridge(t *testing.T) {
	n := privateNet(t)
	if n.BridgeLine == "" {
		t.Fatal("private network has no bridge")
	}
	extra := "bridges = [\"" + n.BridgeLine + "\"]\ntransport_plugins = { obfs4 = \"" + n.Obfs4Path + "\" }\n"
	a := newTransport(t, n.ClientTorrc(), extra)
	b := newTransport(t, n.ClientTorrc(), "")
	ra, rb := new(transporttest.Recorder), new(transporttest.Recorder)
	ctx := context.Background()
	if _, err := a.Start(ctx, ra); err != nil {
		t.Fatal(err)
	}
	ra.WaitEvent(t, 120*time.Second, func(ev transport.Event) bool { return ev.State == transport.StateReady })
	if _, err := b.Start(ctx, rb); err != nil {
		t.Fatal(err)
	}
	sendUntil(t, a, b.Addr(), rb, 0, "via bridge")
	sendUntil(t, b, a.Addr(), ra, 0, "via bridge")
}
