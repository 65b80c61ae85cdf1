package daemon_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/client"
)

func TestTwoHostsExchangeEncrypted(t *testing.T) {
	a, b := startPair(t, true)

	const n = 20
	toB, toA := map[string]bool{}, map[string]bool{}
	for i := 0; i < n; i++ {
		m1 := fmt.Sprintf("secret-plaintext-A-to-B-%03d", i)
		m2 := fmt.Sprintf("secret-plaintext-B-to-A-%03d", i)
		a.Send(b.Host, m1)
		b.Send(a.Host, m2)
		toB[m1], toA[m2] = true, true
	}
	hosttest.CheckExactlyOnce(t, b.WaitInbox(n, 30*time.Second), toB, a.Status().NodeID)
	hosttest.CheckExactlyOnce(t, a.WaitInbox(n, 30*time.Second), toA, b.Status().NodeID)

	// The direct plugins carried every byte; none of it is plaintext.
	for _, h := range []*host{a, b} {
		tap, err := os.ReadFile(h.tap)
		if err != nil {
			t.Fatalf("%s tap: %v", h.Name, err)
		}
		if len(tap) == 0 {
			t.Fatalf("%s: the plugin tap recorded nothing; the test would prove nothing", h.Name)
		}
		for _, marker := range []string{"secret-plaintext", "text/plain"} {
			if strings.Contains(string(tap), hex.EncodeToString([]byte(marker))) || strings.Contains(string(tap), marker) {
				t.Errorf("%s: plugin saw plaintext %q", h.Name, marker)
			}
		}
	}
	// Every stage counted its work.
	for _, s := range b.Status().Stages {
		if s.Name == "inbound" && s.Processed == 0 {
			t.Errorf("inbound stage processed nothing: %+v", s)
		}
	}
}

func TestCLISendListen(t *testing.T) {
	a, b := startPair(t, false)
	rec := strings.TrimSpace(hosttest.RunCLI(t, "--data-dir", b.DataDir, "id"))
	hosttest.RunCLI(t, "--data-dir", a.DataDir, "peer", "add", rec)
	bid := b.Status().NodeID
	hosttest.RunCLI(t, "--data-dir", a.DataDir, "send", "--to", bid, "hello", "from", "the", "cli")
	out := hosttest.RunCLI(t, "--data-dir", b.DataDir, "listen", "--after", "0", "--count", "1", "--json")
	var got client.InboxItem
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &got); err != nil {
		t.Fatalf("listen --json output: %v: %s", err, out)
	}
	if string(got.Envelope.Payload) != "hello from the cli" || got.From != a.ID || got.Seq != 1 {
		t.Fatalf("listen printed %+v", got)
	}
	items := b.WaitInbox(1, 10*time.Second)
	if string(items[0].Envelope.Payload) != "hello from the cli" {
		t.Fatalf("payload %q", items[0].Envelope.Payload)
	}
}

func TestPluginKill9MidStream(t *testing.T) {
	a, b := startPair(t, true)

	const n = 150
	want := map[string]bool{}
	killed := false
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("m-%04d", i)
		want[body] = true
		a.Send(b.Host, body)
		if i == n/3 || i == 2*n/3 {
			// Kill the sender's transport plugin at one third and the
			// receiver's at two thirds, while envelopes are in flight.
			victim := a
			if i == 2*n/3 {
				victim = b
			}
			p := victim.Plugin("direct")
			if p.PID == 0 {
				t.Fatalf("%s: direct plugin has no pid: %+v", victim.Name, p)
			}
			if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if !killed {
		t.Fatal("no plugin was killed")
	}
	hosttest.CheckExactlyOnce(t, b.WaitInbox(n, 90*time.Second), want, "")
	for _, h := range []*host{a, b} {
		p := h.WaitPlugin("direct", "ready", 30*time.Second)
		if p.Restarts < 1 {
			t.Errorf("%s: plugin restarts %d, want ≥ 1", h.Name, p.Restarts)
		}
	}
	// Nothing left behind: A's outbox drains once B acknowledged all.
	deadline := time.Now().Add(30 * time.Second)
	for a.Status().Outbox != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("A's outbox still holds %d envelopes", a.Status().Outbox)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestReceiverKill9WithQueuedEnvelopes(t *testing.T) {
	a, b := startPair(t, true)

	want := map[string]bool{}
	for i := 0; i < 10; i++ {
		body := fmt.Sprintf("before-%02d", i)
		want[body] = true
		a.Send(b.Host, body)
	}
	b.WaitInbox(10, 30*time.Second)
	b.Kill9()
	for i := 0; i < 30; i++ {
		body := fmt.Sprintf("while-down-%02d", i)
		want[body] = true
		a.Send(b.Host, body)
	}
	if st := a.Status(); st.Outbox < 30 {
		t.Fatalf("A's outbox holds %d envelopes while B is down, want ≥ 30", st.Outbox)
	}
	b.Start()
	hosttest.CheckExactlyOnce(t, b.WaitInbox(40, 60*time.Second), want, a.Status().NodeID)
}

func TestSenderKill9KeepsQueue(t *testing.T) {
	a, b := startPair(t, true)
	b.Stop()
	want := map[string]bool{}
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf("queued-%02d", i)
		want[body] = true
		a.Send(b.Host, body)
	}
	a.Kill9()
	a.Start()
	b.Start()
	hosttest.CheckExactlyOnce(t, b.WaitInbox(20, 60*time.Second), want, "")
}

func TestTamperedPluginRefused(t *testing.T) {
	h := newHost(t, "T", hostOpts{})
	bin := h.PluginDir + "/onemfive-transport-direct"
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("tampered"))
	f.Close()
	h.Start()
	p := h.WaitPlugin("direct", "refused", 30*time.Second)
	if !strings.Contains(p.Error, "sha256") || !strings.Contains(p.Error, "changed since install") {
		t.Fatalf("refusal does not explain the checksum: %q", p.Error)
	}
	if p.PID != 0 {
		t.Fatalf("tampered plugin has a pid: %d", p.PID)
	}
}

func TestUnknownAPIVersionSkipped(t *testing.T) {
	h := newHost(t, "U", hostOpts{noDirect: true, extra: []hosttest.Plugin{{Name: "future", Binary: futurePlugin(t)}}})
	h.Start()
	p := h.WaitPlugin("future", "skipped", 30*time.Second)
	if !strings.Contains(p.Error, "99") {
		t.Fatalf("skip reason does not name the plugin's API versions: %q", p.Error)
	}
	if !strings.Contains(h.Logs(), "skipped") {
		t.Fatalf("no warning in the log:\n%s", h.Logs())
	}
}

func TestMalformedConfigExits(t *testing.T) {
	hosttest.Daemon(t)
	dir := t.TempDir()
	cfg := dir + "/bad.hcl"
	os.WriteFile(cfg, []byte("data_dir = \"x\"\nbogus_key = 1\nmancon = 7\napi {\n  listen = \n}\n"), 0o600)
	out, err := exec.Command(hosttest.Daemon(t), "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("daemon accepted a malformed config:\n%s", out)
	}
	if !regexp.MustCompile(`bad\.hcl:\d+:\d+`).Match(out) {
		t.Fatalf("error lacks file:line:col:\n%s", out)
	}
	os.WriteFile(cfg, []byte("data_dir = \"x\"\nbogus_key = 1\nmancon = 7\n"), 0o600)
	out, _ = exec.Command(hosttest.Daemon(t), "--config", cfg).CombinedOutput()
	for _, want := range []string{"bad.hcl:2:1", "bad.hcl:3:"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("errors not all reported: want %s in\n%s", want, out)
		}
	}
}

func TestAPIRefusesWithoutToken(t *testing.T) {
	h := newHost(t, "Z", hostOpts{})
	h.Start()
	for _, tok := range []string{"", "Bearer wrong"} {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", h.C.BaseURL()+"/v1/status", nil)
		if tok != "" {
			req.Header.Set("Authorization", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token %q: status %d, want 401", tok, resp.StatusCode)
		}
	}
	st, err := os.Stat(h.DataDir + "/api.cookie")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cookie file mode: %v %v", st, err)
	}
}

func TestPluginsDieWithHost(t *testing.T) {
	h := newHost(t, "K", hostOpts{})
	h.Start()
	pid := h.WaitPlugin("direct", "ready", 30*time.Second).PID
	h.Kill9()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("plugin pid %d outlived its host by 10 s", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
