package tornet

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/pidfile"
)

func testAuthority() Authority {
	return Authority{Nickname: "auth0", ORPort: 5000, DirPort: 7000,
		V3Ident: strings.Repeat("A", 40), RSAFP: strings.Repeat("B", 40)}
}

// TestTorrcsArePrivate checks every torrc this package writes: each
// DirAuthority line is on 127.0.0.1 and TestingTorNetwork 1 is set.
func TestTorrcsArePrivate(t *testing.T) {
	auths := []Authority{testAuthority()}
	torrcs := map[string]string{
		"authority": AuthorityTorrc(auths, auths[0], "/d/auth0"),
		"relay":     RelayTorrc(auths, "/d/relay1", "relay1", 5001),
		"bridge":    BridgeTorrc(auths, "/d/bridge", 5002, 5003, "/usr/bin/obfs4proxy"),
		"client":    join(ClientLines(auths)),
		"bridge client": join(append(ClientLines(auths),
			BridgeClientLines("obfs4 127.0.0.1:5003 "+strings.Repeat("C", 40)+" cert=x iat-mode=0", "/usr/bin/obfs4proxy")...)),
	}
	for name, torrc := range torrcs {
		if bad := PublicAuthorities(torrc); len(bad) > 0 {
			t.Errorf("%s torrc: %v\n%s", name, bad, torrc)
		}
		var dirAuths int
		for _, l := range strings.Split(torrc, "\n") {
			if strings.HasPrefix(l, "DirAuthority ") {
				dirAuths++
				if !strings.Contains(l, " 127.0.0.1:7000 ") {
					t.Errorf("%s: %q is not the loopback authority", name, l)
				}
			}
		}
		if dirAuths != 1 {
			t.Errorf("%s: %d DirAuthority lines, want 1", name, dirAuths)
		}
		if !strings.Contains(torrc, "\nTestingTorNetwork 1\n") && !strings.HasPrefix(torrc, "TestingTorNetwork 1\n") {
			t.Errorf("%s: TestingTorNetwork 1 missing", name)
		}
	}
}

// TestPublicAuthoritiesCatches checks the checker itself on torrcs that
// would leak.
func TestPublicAuthoritiesCatches(t *testing.T) {
	for name, torrc := range map[string]string{
		"no authority":  "TestingTorNetwork 1\n",
		"public":        "TestingTorNetwork 1\nDirAuthority moria1 orport=9201 no-v2 128.31.0.39:9231 AAAA\n",
		"fallback":      "TestingTorNetwork 1\n" + testAuthority().DirAuthorityLine() + "\nFallbackDir 1.2.3.4:80 orport=443 id=AAAA\n",
		"no testing":    testAuthority().DirAuthorityLine() + "\n",
		"testing off":   "TestingTorNetwork 0\n" + testAuthority().DirAuthorityLine() + "\n",
		"alternate pub": "TestingTorNetwork 1\n" + testAuthority().DirAuthorityLine() + "\nAlternateDirAuthority x 10.0.0.1:80 AAAA\n",
	} {
		if bad := PublicAuthorities(torrc); len(bad) == 0 {
			t.Errorf("%s: not flagged", name)
		}
	}
}

func TestRunningRelays(t *testing.T) {
	cons := "network-status-version 3\nr auth0 x y\ns Authority Fast Running V2Dir\nr relay1 x y\ns Fast Valid\nr relay2 x\ns Running\n"
	got := RunningRelays([]byte(cons))
	if !got["auth0"] || got["relay1"] || !got["relay2"] || len(got) != 2 {
		t.Fatalf("RunningRelays = %v", got)
	}
}

// TestRefusesOutsideNamespace: outside a loopback-only namespace Start
// must refuse before starting anything.
func TestRefusesOutsideNamespace(t *testing.T) {
	if Isolated() == nil {
		t.Skip("inside a loopback-only namespace: the refusal cannot be observed here")
	}
	dir := t.TempDir()
	_, err := Start(context.Background(), Options{Dir: dir})
	if !errors.Is(err, ErrNotIsolated) {
		t.Fatalf("Start outside a namespace: %v, want ErrNotIsolated", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Start wrote %d entries before refusing", len(ents))
	}
}

// TestNetworkUpDown starts the real network, checks the files it wrote,
// and checks that Stop leaves no tor process behind.
func TestNetworkUpDown(t *testing.T) {
	if err := Isolated(); err != nil {
		t.Skipf("needs a loopback-only network namespace (make test): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	if d := os.Getenv("TORNET_TEST_DIR"); d != "" {
		dir = d
	}
	n, err := Start(ctx, Options{Dir: dir, Bridge: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	lines, err := Env(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if bad := PublicAuthorities(strings.Join(lines, "\n")); len(bad) > 0 {
		t.Errorf("client torrc: %v", bad)
	}
	bl, err := Env(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(bl, "\n"), "Bridge obfs4 127.0.0.1:") {
		t.Errorf("bridge client torrc has no bridge line: %q", bl)
	}
	pids := n.PIDs()
	if len(pids) != 5 {
		t.Fatalf("%d processes, want 5 (authority, 3 relays, bridge)", len(pids))
	}
	n.Stop()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil && pidfile.Alive(pid) {
			t.Errorf("pid %d survived Stop", pid)
		}
	}
}
