package i2pd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for out, want := range map[string][3]int{
		"i2pd version 2.56.0 (0.9.65)\nBoost version 1.74.0\n": {2, 56, 0},
		"i2pd version 2.45.1 (0.9.57)":                         {2, 45, 1},
	} {
		v, ok := ParseVersion(out)
		if !ok || v != want {
			t.Errorf("ParseVersion(%q) = %v %v, want %v", out, v, ok, want)
		}
	}
	if _, ok := ParseVersion("tor 0.4.9"); ok {
		t.Error("parsed a version from unrelated output")
	}
	if !Less([3]int{2, 45, 1}, MinVersion) || Less([3]int{2, 56, 0}, MinVersion) || Less(MinVersion, MinVersion) {
		t.Error("Less is wrong")
	}
}

// TestFindRefusesOld runs a fake i2pd that reports 2.45.1: Find refuses it,
// naming the version and the install script.
func TestFindRefusesOld(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "i2pd")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'i2pd version 2.45.1 (0.9.57)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Find(context.Background(), fake)
	if !errors.Is(err, ErrTooOld) || !strings.Contains(err.Error(), "2.45.1") || !strings.Contains(err.Error(), "install-i2pd.sh") {
		t.Fatalf("Find: %v", err)
	}
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'i2pd version 2.56.0 (0.9.65)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := Find(context.Background(), fake)
	if err != nil || b.Version != [3]int{2, 56, 0} || b.Path != fake {
		t.Fatalf("Find: %+v %v", b, err)
	}
}

func TestRender(t *testing.T) {
	o := Quiet().Merge(Options{"netid": "99", "sam.port": "7656", "reseed.urls": ""})
	if err := o.Check(); err != nil {
		t.Fatal(err)
	}
	conf := o.Render()
	if conf != o.Render() {
		t.Fatal("Render is not deterministic")
	}
	top, rest, _ := strings.Cut(conf, "\n[")
	if !strings.Contains(top, "netid = 99\n") || strings.Contains(top, "port = 7656") {
		t.Errorf("top-level section:\n%s", top)
	}
	for _, want := range []string{"[sam]\nenabled = false\nport = 7656\n", "[reseed]\nurls = \n", "[http]\nenabled = false\n"} {
		if !strings.Contains("["+rest, want) {
			t.Errorf("conf lacks %q:\n%s", want, conf)
		}
	}
	for _, bad := range []Options{{"a b": "x"}, {"x.": "1"}, {"k": "two\nlines"}} {
		if bad.Check() == nil {
			t.Errorf("Check accepted %v", bad)
		}
	}
}

func TestParseStats(t *testing.T) {
	res, err := DecodeResponse([]byte(`{"id":1,"result":{"i2p.router.netdb.knownpeers":5,"i2p.router.netdb.activepeers":3,` +
		`"i2p.router.net.tunnels.successrate":42,"i2p.router.net.tunnels.participating":"7","i2p.router.net.status":0,` +
		`"i2p.router.net.total.received.bytes":12345.0,"i2p.router.version":"2.56.0"},"jsonrpc":"2.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStats(res)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{KnownPeers: 5, ActivePeers: 3, SuccessRate: 42, Transit: 7, Received: 12345, Version: "2.56.0"}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	if _, err := DecodeResponse([]byte(`{"id":null,"error":{"code":-32601,"message":"Method not found"},"jsonrpc":"2.0"}`)); err == nil ||
		!strings.Contains(err.Error(), "Method not found") {
		t.Fatalf("error response: %v", err)
	}
	if _, err := ParseStats(map[string]json.RawMessage{}); err == nil {
		t.Fatal("empty result accepted")
	}
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"id":1,"result":{"i2p.router.netdb.knownpeers":5},"jsonrpc":"2.0"}`))
	f.Add([]byte(`{"id":null,"error":{"code":-32700,"message":"x"}}`))
	f.Add([]byte(`{"result":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := DecodeResponse(b)
		if err == nil {
			ParseStats(res)
		}
	})
}
