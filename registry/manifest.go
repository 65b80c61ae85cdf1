package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/onemfive/onemfive/sdk/base"
)

// ManifestSuffix ends every manifest file name: NAME.plugin.json.
const ManifestSuffix = ".plugin.json"

// BinaryPrefix starts every plugin executable's name.
const BinaryPrefix = "onemfive-"

// maxManifestSize bounds what List reads from one manifest.
const maxManifestSize = 1 << 20

// Errors callers can test with errors.Is.
var (
	// ErrChecksumMismatch: the binary changed since it was installed.
	ErrChecksumMismatch = errors.New("registry: checksum mismatch")
	// ErrNoCommonAPIVersion: host and plugin share no plugin API major.
	ErrNoCommonAPIVersion = errors.New("registry: no common plugin API version")
	// ErrNotInstalled: no manifest for the named plugin.
	ErrNotInstalled = errors.New("registry: plugin not installed")
	// ErrInvalidName: a plugin or binary name breaks the naming rules.
	ErrInvalidName = errors.New("registry: invalid plugin name")
)

// Manifest records one installed plugin.
type Manifest struct {
	Name        string    `json:"name"`
	Kind        base.Kind `json:"kind"`
	Binary      string    `json:"binary"`
	SHA256      string    `json:"sha256"`
	Installed   time.Time `json:"installed"`
	APIVersions []int     `json:"api_versions,omitempty"`
}

var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

// CheckName reports whether name is a valid plugin name: lowercase letters,
// digits and inner hyphens, 1 to 64 characters. The error wraps
// ErrInvalidName.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w %q: want lowercase letters, digits and inner hyphens, at most 64 characters", ErrInvalidName, name)
	}
	return nil
}

func checkKind(k base.Kind) error {
	if k != base.KindTransport && k != base.KindService {
		return fmt.Errorf("%w: kind %q: want transport or service", ErrInvalidName, k)
	}
	return nil
}

// exeSuffix is what the platform appends to executables.
func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// BinaryName is the executable's file name for a plugin:
// onemfive-KIND-NAME (plus .exe on Windows).
func BinaryName(kind base.Kind, name string) string {
	return BinaryPrefix + string(kind) + "-" + name + exeSuffix()
}

// ParseBinaryName splits an executable's file name (no directory)
// onemfive-KIND-NAME into its kind and name. The error wraps ErrInvalidName.
func ParseBinaryName(file string) (base.Kind, string, error) {
	bad := func(why string) (base.Kind, string, error) {
		return "", "", fmt.Errorf("%w: %q is not onemfive-<transport|service>-<name>: %s", ErrInvalidName, file, why)
	}
	rest, ok := strings.CutPrefix(strings.TrimSuffix(file, exeSuffix()), BinaryPrefix)
	if !ok {
		return bad("missing the onemfive- prefix")
	}
	kind, name, ok := strings.Cut(rest, "-")
	if !ok {
		return bad("missing the kind")
	}
	if err := checkKind(base.Kind(kind)); err != nil {
		return bad("kind must be transport or service")
	}
	if err := CheckName(name); err != nil {
		return bad("name must be lowercase letters, digits and inner hyphens")
	}
	return base.Kind(kind), name, nil
}

// Validate checks that m is well formed: valid name and kind, a binary
// named for them with no directory part, and a sha256 of 64 hex digits.
func (m Manifest) Validate() error {
	if err := CheckName(m.Name); err != nil {
		return err
	}
	if err := checkKind(m.Kind); err != nil {
		return err
	}
	if want := BinaryName(m.Kind, m.Name); m.Binary != want {
		return fmt.Errorf("registry: binary %q: want %q for a %s named %s", m.Binary, want, m.Kind, m.Name)
	}
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("registry: sha256 %q is not 64 hex digits", m.SHA256)
	}
	return nil
}

// Path is the binary's path when the plugin is installed in dir.
func (m Manifest) Path(dir string) string {
	return filepath.Join(dir, m.Binary)
}

// SecureConfig returns a go-plugin SecureConfig holding the recorded sha256,
// so go-plugin checks the binary again right before it executes it.
func (m Manifest) SecureConfig() (*plugin.SecureConfig, error) {
	sum, err := hex.DecodeString(m.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return nil, fmt.Errorf("registry: plugin %s: sha256 %q is not 64 hex digits", m.Name, m.SHA256)
	}
	return &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}, nil
}

// decodeManifest parses and validates a manifest read from file.
func decodeManifest(data []byte, file string) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("registry: manifest %s: %w", file, err)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("registry: manifest %s: %w", file, err)
	}
	if want := m.Name + ManifestSuffix; filepath.Base(file) != want {
		return Manifest{}, fmt.Errorf("registry: manifest %s: names plugin %q, so it must be called %s", file, m.Name, want)
	}
	return m, nil
}

// ChecksumError reports a binary that changed since it was installed. It
// matches ErrChecksumMismatch with errors.Is.
type ChecksumError struct {
	Plugin   string
	Path     string
	Recorded string
	Actual   string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("registry: plugin %s: binary %s changed since install: sha256 recorded %s now %s; reinstall it with `onemfive plugin install` if you trust it",
		e.Plugin, e.Path, e.Recorded, e.Actual)
}

// Is makes errors.Is(err, ErrChecksumMismatch) true.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksumMismatch }

// Negotiate returns the highest plugin API major both host and plugin
// speak. Majors start at 1; zero and negative entries are ignored. With none in common the error wraps ErrNoCommonAPIVersion and names
// both lists.
func Negotiate(host, plugin []int) (int, error) {
	best, found := 0, false
	for _, h := range host {
		for _, p := range plugin {
			if h == p && h > 0 && (!found || h > best) {
				best, found = h, true
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("%w: host speaks %v, plugin speaks %v", ErrNoCommonAPIVersion, host, plugin)
	}
	return best, nil
}
