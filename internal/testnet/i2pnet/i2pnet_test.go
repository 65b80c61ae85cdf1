package i2pnet

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/pidfile"
	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
)

// fakeRouterInfo is an identity (key certificate of certLen bytes) plus
// some trailing bytes, as a router.info starts.
func fakeRouterInfo(certLen int, tail string) []byte {
	b := make([]byte, identityFixed+certLen)
	for i := range b {
		b[i] = byte(i)
	}
	b[identityFixed-3] = 5
	binary.BigEndian.PutUint16(b[identityFixed-2:], uint16(certLen))
	return append(b, tail...)
}

func TestIdentityHash(t *testing.T) {
	ri := fakeRouterInfo(4, "rest of the router info")
	h, err := IdentityHash(ri)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(ri[:identityFixed+4])
	if want := i2pB64.EncodeToString(sum[:]); h != want {
		t.Fatalf("hash %s, want %s", h, want)
	}
	if strings.ContainsAny(h, "+/") {
		t.Fatalf("hash %s uses the standard base64 alphabet", h)
	}
	for _, bad := range [][]byte{nil, ri[:100], fakeRouterInfo(40, "")[:identityFixed+10]} {
		if _, err := IdentityHash(bad); err == nil {
			t.Errorf("IdentityHash accepted %d bytes", len(bad))
		}
	}
}

func FuzzIdentityHash(f *testing.F) {
	f.Add(fakeRouterInfo(4, "x"))
	f.Add(fakeRouterInfo(0, ""))
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := IdentityHash(b)
		if err == nil && len(h) != 44 {
			t.Fatalf("hash %q has %d chars", h, len(h))
		}
	})
}

func TestSeedZip(t *testing.T) {
	ris := [][]byte{fakeRouterInfo(4, "one"), fakeRouterInfo(4, "two-longer")}
	var b bytes.Buffer
	if err := WriteSeedZip(&b, ris); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 2 {
		t.Fatalf("%d files", len(zr.File))
	}
	for i, f := range zr.File {
		h, _ := IdentityHash(ris[i])
		if f.Name != "routerInfo-"+h+".dat" || f.Method != zip.Store || f.Flags&0x8 != 0 {
			t.Errorf("file %d: name %s method %d flags %#x", i, f.Name, f.Method, f.Flags)
		}
		rc, _ := f.Open()
		var got bytes.Buffer
		got.ReadFrom(rc)
		if !bytes.Equal(got.Bytes(), ris[i]) {
			t.Errorf("file %d content differs", i)
		}
	}
	if err := WriteSeedZip(&b, nil); err == nil {
		t.Error("empty seed accepted")
	}
}

func TestOptionsRoundTrip(t *testing.T) {
	o := i2pd.Options{"netid": "99", "reseed.urls": "", "reseed.zipfile": "/x/seed.zip"}
	got, err := parseOptions(formatOptions(o))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(o) {
		t.Fatalf("got %v, want %v", got, o)
	}
	for k, v := range o {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := parseOptions("no equals sign\n"); err == nil {
		t.Error("malformed line accepted")
	}
}

func TestStartRefusesOutsideNamespace(t *testing.T) {
	if Isolated() == nil {
		t.Skip("inside a loopback-only namespace: the refusal cannot be observed here")
	}
	_, err := Start(context.Background(), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrNotIsolated) {
		t.Fatalf("Start outside a namespace: %v, want ErrNotIsolated", err)
	}
}

// TestNetwork starts a detached four-router network with SAM, checks it
// is private and ready, then stops it with Down by pid.
func TestNetwork(t *testing.T) {
	if err := Isolated(); err != nil {
		t.Skipf("needs a loopback-only network namespace to run i2pd (make test provides one): %v", err)
	}
	if _, err := i2pd.Find(context.Background(), ""); err != nil {
		t.Skipf("needs i2pd >= 2.51: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t0 := time.Now()
	n, err := Start(ctx, Options{Dir: dir, SAM: true, Detach: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("four routers ready in %v", time.Since(t0).Round(time.Millisecond))
	for _, r := range n.Routers {
		conf, err := os.ReadFile(filepath.Join(r.Dir, "i2pd.conf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"netid = 99", "urls = \n", "zipfile = " + n.SeedZip, "host = 127.0.0.1"} {
			if !strings.Contains(string(conf), want) {
				t.Errorf("%s i2pd.conf lacks %q", r.Name, want)
			}
		}
		if err := SAMHello(ctx, r.SAMAddr()); err != nil {
			t.Error(err)
		}
	}
	env, err := Env(dir)
	if err != nil || env["netid"] != "99" || env["reseed.zipfile"] != n.SeedZip {
		t.Errorf("env %v, %v", env, err)
	}
	pids := n.PIDs()
	k, err := Down(dir)
	if err != nil || k != len(pids) {
		t.Fatalf("down stopped %d of %d: %v", k, len(pids), err)
	}
	for _, pid := range pids {
		if pidfile.Alive(pid) {
			t.Errorf("pid %d alive after Down", pid)
		}
	}
	n.Stop()
}
