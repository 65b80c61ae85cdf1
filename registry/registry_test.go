package registry_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/registry"
	"github.com/onemfive/onemfive/sdk/base"
)

// fakeBinary writes an executable-looking file named file in a fresh
// directory outside the plugin directory.
func fakeBinary(t *testing.T, file, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestInstallListVerifyRemove(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "plugins") // created by Install
	r := registry.New(dir, nil)

	if ms, err := r.List(ctx); err != nil || len(ms) != 0 {
		t.Fatalf("List of a missing dir = %v, %v", ms, err)
	}

	src := fakeBinary(t, "onemfive-transport-direct", "#!/bin/sh\necho direct v1\n")
	m, err := r.Install(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "direct" || m.Kind != base.KindTransport || m.Binary != "onemfive-transport-direct" || m.SHA256 != sum("#!/bin/sh\necho direct v1\n") || m.Installed.IsZero() || m.APIVersions != nil {
		t.Fatalf("manifest = %+v", m)
	}
	fi, err := os.Stat(m.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o755 {
		t.Errorf("binary mode = %v, want 0755", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "direct.plugin.json")); err != nil {
		t.Errorf("manifest file: %v", err)
	}

	// Files without a manifest are not plugins, whatever their name.
	for _, stray := range []string{"onemfive-transport-stray", "README", "direct.json"} {
		if err := os.WriteFile(filepath.Join(dir, stray), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.plugin.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	ms, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Name != "direct" || ms[0].SHA256 != m.SHA256 || !ms[0].Installed.Equal(m.Installed) {
		t.Fatalf("List = %+v", ms)
	}
	got, err := r.Lookup(ctx, "direct")
	if err != nil || got.SHA256 != m.SHA256 {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if err := r.Verify(ms[0]); err != nil {
		t.Fatalf("Verify of an untouched binary: %v", err)
	}
	sc, err := ms[0].SecureConfig()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := sc.Check(m.Path(dir)); !ok || err != nil {
		t.Errorf("SecureConfig.Check = %v, %v", ok, err)
	}

	// A second plugin, then removal of the first.
	if _, err := r.Install(ctx, fakeBinary(t, "onemfive-service-did", "did")); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Path(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("binary still there after Remove: %v", err)
	}
	ms, err = r.List(ctx)
	if err != nil || len(ms) != 1 || ms[0].Name != "did" {
		t.Fatalf("List after Remove = %+v, %v", ms, err)
	}
	if err := r.Remove(ctx, "direct"); !errors.Is(err, registry.ErrNotInstalled) {
		t.Errorf("second Remove = %v, want ErrNotInstalled", err)
	}
	if _, err := r.Lookup(ctx, "direct"); !errors.Is(err, registry.ErrNotInstalled) {
		t.Errorf("Lookup after Remove = %v, want ErrNotInstalled", err)
	}
	if err := r.Remove(ctx, "../etc"); !errors.Is(err, registry.ErrInvalidName) {
		t.Errorf("Remove(../etc) = %v, want ErrInvalidName", err)
	}
	// The source was copied, not moved.
	if _, err := os.Stat(src); err != nil {
		t.Errorf("source gone: %v", err)
	}
}

func TestReinstallReplaces(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := registry.New(dir, nil)
	if _, err := r.Install(ctx, fakeBinary(t, "onemfive-transport-x", "v1")); err != nil {
		t.Fatal(err)
	}
	m2, err := r.Install(ctx, fakeBinary(t, "onemfive-transport-x", "v2"))
	if err != nil {
		t.Fatal(err)
	}
	if m2.SHA256 != sum("v2") {
		t.Errorf("sha after reinstall = %s", m2.SHA256)
	}
	if err := r.Verify(m2); err != nil {
		t.Error(err)
	}
	// Same name as another kind: the old binary goes away.
	m3, err := r.Install(ctx, fakeBinary(t, "onemfive-service-x", "v3"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "onemfive-transport-x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old kind's binary left behind: %v", err)
	}
	ms, err := r.List(ctx)
	if err != nil || len(ms) != 1 || ms[0].Kind != base.KindService || ms[0].SHA256 != m3.SHA256 {
		t.Fatalf("List = %+v, %v", ms, err)
	}
	// No temporary files are left.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestInstallInPlace(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := filepath.Join(dir, "onemfive-transport-lan")
	if err := os.WriteFile(p, []byte("lan"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := registry.New(dir, nil).Install(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if m.SHA256 != sum("lan") || m.Path(dir) != p {
		t.Errorf("manifest = %+v", m)
	}
}

func TestTamperedBinaryRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := registry.New(dir, nil)
	m, err := r.Install(ctx, fakeBinary(t, "onemfive-transport-direct", "good"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.Path(dir), []byte("evil"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = r.Verify(m)
	if !errors.Is(err, registry.ErrChecksumMismatch) {
		t.Fatalf("Verify = %v, want ErrChecksumMismatch", err)
	}
	var ce *registry.ChecksumError
	if !errors.As(err, &ce) || ce.Recorded != sum("good") || ce.Actual != sum("evil") {
		t.Fatalf("ChecksumError = %+v", ce)
	}
	msg := err.Error()
	for _, w := range []string{
		"registry: plugin direct: binary " + m.Path(dir) + " changed since install",
		"sha256 recorded " + sum("good") + " now " + sum("evil"),
		"reinstall it with `onemfive plugin install` if you trust it",
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	sc, err := m.SecureConfig()
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := sc.Check(m.Path(dir)); ok {
		t.Error("go-plugin SecureConfig accepts the tampered binary")
	}

	if err := os.Remove(m.Path(dir)); err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(m); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, registry.ErrChecksumMismatch) {
		t.Errorf("Verify of a missing binary = %v", err)
	}
}

func TestMalformedManifestsDoNotHideGoodOnes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := registry.New(dir, nil)
	if _, err := r.Install(ctx, fakeBinary(t, "onemfive-transport-good", "g")); err != nil {
		t.Fatal(err)
	}
	good := `"sha256": "` + sum("x") + `", "installed": "2025-01-01T00:00:00Z"`
	bad := map[string]string{
		"syntax.plugin.json":    `{"name": "syntax",`,
		"renamed.plugin.json":   `{"name": "other", "kind": "transport", "binary": "onemfive-transport-other", ` + good + `}`,
		"escape.plugin.json":    `{"name": "escape", "kind": "transport", "binary": "../../bin/sh", ` + good + `}`,
		"kind.plugin.json":      `{"name": "kind", "kind": "sensor", "binary": "onemfive-sensor-kind", ` + good + `}`,
		"hash.plugin.json":      `{"name": "hash", "kind": "service", "binary": "onemfive-service-hash", "sha256": "zz"}`,
		"Upper-X.plugin.json":   `{"name": "Upper-X", "kind": "service", "binary": "onemfive-service-Upper-X", ` + good + `}`,
		"wrongtype.plugin.json": `{"name": "wrongtype", "kind": "service", "binary": "onemfive-service-wrongtype", ` + good + `, "api_versions": "1"}`,
	}
	for f, c := range bad {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := r.List(ctx)
	if len(ms) != 1 || ms[0].Name != "good" {
		t.Errorf("good manifests = %+v", ms)
	}
	if err == nil {
		t.Fatal("no error for malformed manifests")
	}
	for f := range bad {
		if !strings.Contains(err.Error(), filepath.Join(dir, f)) {
			t.Errorf("error does not name %s:\n%v", f, err)
		}
	}
	if n := strings.Count(err.Error(), "registry: manifest "); n != len(bad) {
		t.Errorf("%d manifest errors, want %d:\n%v", n, len(bad), err)
	}
}

func TestInstallRejectsBadNames(t *testing.T) {
	ctx := context.Background()
	r := registry.New(t.TempDir(), nil)
	for _, file := range []string{
		"direct", "onemfive-direct", "onemfive-sensor-tor", "onemfive-transport-", "onemfive-transport-Tor",
		"onemfive-transport-tor_1", "onemfive-transport--x", "onemfive-transport-x-", "plugin.sh",
		"onemfive-transport-" + strings.Repeat("a", 65),
	} {
		_, err := r.Install(ctx, fakeBinary(t, file, "x"))
		if !errors.Is(err, registry.ErrInvalidName) {
			t.Errorf("Install(%s) = %v, want ErrInvalidName", file, err)
		}
	}
	if _, err := r.Install(ctx, filepath.Join(t.TempDir(), "onemfive-service-missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Install of a missing file = %v", err)
	}
	d := filepath.Join(t.TempDir(), "onemfive-service-d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Install(ctx, d); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Install of a directory = %v", err)
	}
}

func TestParseBinaryName(t *testing.T) {
	cases := []struct {
		file string
		kind base.Kind
		name string
	}{
		{"onemfive-transport-direct", base.KindTransport, "direct"},
		{"onemfive-service-did", base.KindService, "did"},
		{"onemfive-transport-i2p-sam", base.KindTransport, "i2p-sam"},
		{"onemfive-service-9", base.KindService, "9"},
	}
	for _, tc := range cases {
		k, n, err := registry.ParseBinaryName(tc.file + map[bool]string{true: ".exe"}[runtime.GOOS == "windows"])
		if err != nil || k != tc.kind || n != tc.name {
			t.Errorf("ParseBinaryName(%s) = %s, %s, %v", tc.file, k, n, err)
		}
		if got := registry.BinaryName(tc.kind, tc.name); strings.TrimSuffix(got, ".exe") != tc.file {
			t.Errorf("BinaryName(%s, %s) = %s", tc.kind, tc.name, got)
		}
	}
}

func TestProbe(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := registry.New(dir, nil)
	var probed string
	r.SetProbe(func(ctx context.Context, path string) (base.Info, error) {
		probed = path
		if _, err := os.Stat(path); err != nil {
			t.Errorf("probe got a path that does not exist: %v", err)
		}
		return base.Info{Name: "direct", Kind: base.KindTransport, APIVersions: []int{1, 2}}, nil
	})
	m, err := r.Install(ctx, fakeBinary(t, "onemfive-transport-direct", "d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.APIVersions) != 2 || m.APIVersions[1] != 2 || probed == "" {
		t.Errorf("manifest = %+v, probed %q", m, probed)
	}
	ms, _ := r.List(ctx)
	if len(ms) != 1 || len(ms[0].APIVersions) != 2 {
		t.Errorf("api_versions not persisted: %+v", ms)
	}

	// A binary that says it is something else is refused, and nothing of it
	// is left in the directory; the previous install stays intact.
	r.SetProbe(func(ctx context.Context, path string) (base.Info, error) {
		return base.Info{Name: "tor", Kind: base.KindTransport}, nil
	})
	_, err = r.Install(ctx, fakeBinary(t, "onemfive-transport-direct", "impostor"))
	if err == nil || !strings.Contains(err.Error(), `"tor"`) {
		t.Fatalf("Install of a mislabelled binary = %v", err)
	}
	if err := r.Verify(m); err != nil {
		t.Errorf("previous install damaged: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want binary + manifest", len(entries))
	}

	r.SetProbe(func(ctx context.Context, path string) (base.Info, error) {
		return base.Info{}, errors.New("exec format error")
	})
	if _, err := r.Install(ctx, fakeBinary(t, "onemfive-service-junk", "j")); err == nil || !strings.Contains(err.Error(), "exec format error") {
		t.Errorf("probe failure = %v", err)
	}
	if _, err := r.Lookup(ctx, "junk"); !errors.Is(err, registry.ErrNotInstalled) {
		t.Errorf("junk installed despite failed probe: %v", err)
	}
}

func TestInstallHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := registry.New(t.TempDir(), nil)
	if _, err := r.Install(ctx, fakeBinary(t, "onemfive-transport-x", "x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Install with a cancelled ctx = %v", err)
	}
	if ms, _ := r.List(context.Background()); len(ms) != 0 {
		t.Errorf("installed anyway: %+v", ms)
	}
}

func TestNegotiate(t *testing.T) {
	cases := []struct {
		host, plugin []int
		want         int
		ok           bool
	}{
		{[]int{1}, []int{1}, 1, true},
		{[]int{1, 2}, []int{2, 1}, 2, true},
		{[]int{1, 2, 3}, []int{2}, 2, true},
		{[]int{3, 1}, []int{1, 3, 5}, 3, true},
		{[]int{2}, []int{1}, 0, false},
		{[]int{1}, nil, 0, false},
		{nil, []int{1}, 0, false},
		{[]int{0, -1}, []int{0, -1}, 0, false},
	}
	for _, tc := range cases {
		got, err := registry.Negotiate(tc.host, tc.plugin)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("Negotiate(%v, %v) = %d, %v; want %d", tc.host, tc.plugin, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, registry.ErrNoCommonAPIVersion) {
			t.Errorf("Negotiate(%v, %v) = %d, %v; want ErrNoCommonAPIVersion", tc.host, tc.plugin, got, err)
			continue
		}
		if want := fmt.Sprintf("host speaks %v, plugin speaks %v", tc.host, tc.plugin); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
