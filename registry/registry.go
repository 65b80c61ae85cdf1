package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/sdk/base"
)

// Probe asks the plugin executable at path who it is, typically by starting
// it through go-plugin and calling Info. Install uses it, when set, to check
// that the binary is the plugin its name says and to record its API versions.
type Probe func(ctx context.Context, path string) (base.Info, error)

// Registry manages the plugins installed in one directory.
type Registry struct {
	dir    string
	logger hclog.Logger

	mu    sync.Mutex // serialises Install and Remove
	probe Probe
}

// New returns a Registry for dir. The directory is created by the first
// Install; a missing directory lists as empty. A nil logger discards.
func New(dir string, logger hclog.Logger) *Registry {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Registry{dir: dir, logger: logger.Named("registry")}
}

// SetProbe sets the Probe Install runs on new binaries (nil: none, and
// manifests carry no api_versions). Call it before Install.
func (r *Registry) SetProbe(p Probe) {
	r.mu.Lock()
	r.probe = p
	r.mu.Unlock()
}

// Dir is the plugin directory.
func (r *Registry) Dir() string { return r.dir }

func (r *Registry) manifestPath(name string) string {
	return filepath.Join(r.dir, name+ManifestSuffix)
}

// Install installs the executable src, which must be named
// onemfive-KIND-NAME. A src outside the directory is copied in; a src already
// there is recorded in place. The sha256 is computed from the bytes written,
// the probe (if any) is run on the new binary before it replaces an old one,
// and the manifest is written last. Installing a name again replaces it,
// including a previous install of the same name as another kind.
func (r *Registry) Install(ctx context.Context, src string) (Manifest, error) {
	kind, name, err := ParseBinaryName(filepath.Base(src))
	if err != nil {
		return Manifest{}, err
	}
	fail := func(err error) (Manifest, error) {
		return Manifest{}, fmt.Errorf("registry: install %s: %w", name, err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return fail(err)
	}
	if !fi.Mode().IsRegular() {
		return fail(fmt.Errorf("%s is not a regular file", src))
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fail(err)
	}
	binary := filepath.Base(src)
	dest := filepath.Join(r.dir, binary)

	var sum string
	staged := dest // the file the probe runs and that ends up at dest
	if di, err := os.Stat(dest); err == nil && os.SameFile(fi, di) {
		if sum, err = fileSHA256(ctx, dest); err != nil {
			return fail(err)
		}
		if err := os.Chmod(dest, 0o755); err != nil {
			return fail(err)
		}
	} else {
		if staged, sum, err = r.stageCopy(ctx, src); err != nil {
			return fail(err)
		}
		defer os.Remove(staged) // no-op once renamed
	}

	m := Manifest{Name: name, Kind: kind, Binary: binary, SHA256: sum, Installed: time.Now().UTC().Truncate(time.Second)}
	if r.probe != nil {
		info, err := r.probe(ctx, staged)
		if err != nil {
			return fail(fmt.Errorf("probe: %w", err))
		}
		if info.Name != name || info.Kind != kind {
			return fail(fmt.Errorf("binary %s says it is %s %q, not %s %q", binary, info.Kind, info.Name, kind, name))
		}
		m.APIVersions = append([]int(nil), info.APIVersions...)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}

	old, oldErr := r.readManifest(name)
	if staged != dest {
		if err := os.Rename(staged, dest); err != nil {
			return fail(err)
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := writeFileAtomic(r.dir, r.manifestPath(name), append(data, '\n'), 0o644); err != nil {
		return fail(err)
	}
	if oldErr == nil && old.Binary != m.Binary {
		// The same name was installed as another kind; its binary is orphaned.
		if err := os.Remove(old.Path(r.dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.logger.Warn("cannot remove replaced binary", "path", old.Path(r.dir), "error", err)
		}
	}
	r.logger.Info("installed plugin", "name", name, "kind", kind, "sha256", sum, "api_versions", m.APIVersions)
	return m, nil
}

// stageCopy copies src to a temporary file in the directory, fsynced and
// mode 0755, and returns its path and sha256.
func (r *Registry) stageCopy(ctx context.Context, src string) (string, string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(r.dir, ".install-*.tmp")
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, in})
	if err == nil {
		err = tmp.Chmod(0o755)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", "", err
	}
	return tmp.Name(), hexSum(h), nil
}

// List returns every well-formed manifest in the directory, sorted by name.
// Malformed manifests do not hide the good ones: they are skipped, and the
// returned error (non-nil alongside the good list) joins one error per bad
// file, each naming it. Files other than *.plugin.json are ignored.
func (r *Registry) List(ctx context.Context) ([]Manifest, error) {
	entries, err := os.ReadDir(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry: list: %w", err)
	}
	var out []Manifest
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("registry: list: %w", err)
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ManifestSuffix) {
			continue
		}
		m, err := loadManifest(filepath.Join(r.dir, e.Name()))
		if err != nil {
			r.logger.Warn("skipping malformed manifest", "error", err)
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// Lookup returns the manifest of the named plugin; the error wraps
// ErrNotInstalled when there is none.
func (r *Registry) Lookup(ctx context.Context, name string) (Manifest, error) {
	if err := CheckName(name); err != nil {
		return Manifest{}, err
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, err
	}
	return r.readManifest(name)
}

func (r *Registry) readManifest(name string) (Manifest, error) {
	m, err := loadManifest(r.manifestPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, fmt.Errorf("%w: %s (no %s in %s)", ErrNotInstalled, name, name+ManifestSuffix, r.dir)
	}
	return m, err
}

func loadManifest(path string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("registry: manifest %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("registry: manifest %s: %w", path, err)
	}
	if len(data) > maxManifestSize {
		return Manifest{}, fmt.Errorf("registry: manifest %s: larger than %d bytes", path, maxManifestSize)
	}
	return decodeManifest(data, path)
}

// Remove uninstalls the named plugin: its manifest first (so it is never
// listed without its binary), then its binary. A malformed manifest is
// removed too, with the binaries its name could have. The error wraps
// ErrNotInstalled when nothing of that name was there.
func (r *Registry) Remove(ctx context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	paths := []string{
		r.manifestPath(name),
		filepath.Join(r.dir, BinaryName(base.KindTransport, name)),
		filepath.Join(r.dir, BinaryName(base.KindService, name)),
	}
	if m, err := r.readManifest(name); err == nil {
		paths = []string{r.manifestPath(name), m.Path(r.dir)}
	}
	removed := false
	for _, p := range paths {
		err := os.Remove(p)
		switch {
		case err == nil:
			removed = true
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("registry: remove %s: %w", name, err)
		}
	}
	if !removed {
		return fmt.Errorf("%w: %s", ErrNotInstalled, name)
	}
	r.logger.Info("removed plugin", "name", name)
	return nil
}

// Verify recomputes the sha256 of m's binary in the directory. A changed
// binary gives a *ChecksumError (errors.Is ErrChecksumMismatch) naming the
// file and both hashes.
func (r *Registry) Verify(m Manifest) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("registry: plugin %s: %w", m.Name, err)
	}
	path := m.Path(r.dir)
	sum, err := fileSHA256(context.Background(), path)
	if err != nil {
		return fmt.Errorf("registry: plugin %s: binary: %w", m.Name, err)
	}
	if !strings.EqualFold(sum, m.SHA256) {
		return &ChecksumError{Plugin: m.Name, Path: path, Recorded: m.SHA256, Actual: sum}
	}
	return nil
}

func fileSHA256(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", err
	}
	return hexSum(h), nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// writeFileAtomic writes data to path through a fsynced temporary file in
// dir and a rename.
func writeFileAtomic(dir, path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(dir, ".manifest-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ctxReader stops a long copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
