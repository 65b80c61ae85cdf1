package i2pd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultPath is where scripts/install-i2pd.sh installs i2pd.
const DefaultPath = "/opt/onemfive/i2pd/bin/i2pd"

// MinVersion is the oldest i2pd that forms a network on 127.0.0.0/8.
var MinVersion = [3]int{2, 51, 0}

// InstallHint names the way to get a new enough i2pd.
const InstallHint = "run `sudo scripts/install-i2pd.sh` (builds i2pd 2.56.0 into " + DefaultPath + ")"

// ErrNotFound is returned (wrapped) when no i2pd executable is found.
var ErrNotFound = errors.New("i2pd: no i2pd executable found")

// ErrTooOld is returned (wrapped) when the i2pd found is older than
// MinVersion.
var ErrTooOld = errors.New("i2pd: version too old")

// Binary is an i2pd executable and the version it reports.
type Binary struct {
	Path    string
	Version [3]int
}

// VersionString formats v as "x.y.z".
func VersionString(v [3]int) string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// Find locates i2pd: given (a configured path) if set, else DefaultPath,
// else "i2pd" on PATH. It runs `i2pd --version` (bounded by ctx) and
// refuses a version below MinVersion with an error naming the version and
// the install script.
func Find(ctx context.Context, given string) (Binary, error) {
	path := given
	if path == "" {
		if _, err := os.Stat(DefaultPath); err == nil {
			path = DefaultPath
		} else if p, err := exec.LookPath("i2pd"); err == nil {
			path = p
		} else {
			return Binary{}, fmt.Errorf("%w (looked at %s and PATH): %s", ErrNotFound, DefaultPath, InstallHint)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		return Binary{}, fmt.Errorf("i2pd: %s --version: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	v, ok := ParseVersion(string(out))
	if !ok {
		return Binary{}, fmt.Errorf("i2pd: %s --version: no version in %q", path, strings.TrimSpace(string(out)))
	}
	if Less(v, MinVersion) {
		return Binary{}, fmt.Errorf("%w: %s is i2pd %s, need >= %s (older ones refuse peers on 127.0.0.0/8): %s",
			ErrTooOld, path, VersionString(v), VersionString(MinVersion), InstallHint)
	}
	return Binary{Path: path, Version: v}, nil
}

var versionRE = regexp.MustCompile(`i2pd version (\d+)\.(\d+)\.(\d+)`)

// ParseVersion reads the version from `i2pd --version` output
// ("i2pd version 2.56.0 (0.9.65)").
func ParseVersion(out string) ([3]int, bool) {
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range v {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return [3]int{}, false
		}
		v[i] = n
	}
	return v, true
}

// Less reports whether version a is older than b.
func Less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
