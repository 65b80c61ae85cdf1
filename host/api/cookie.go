package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/onemfive/onemfive/sdk/client"
)

// WriteCookie creates a fresh API token (32 random bytes, hex) and writes it
// to <dataDir>/api.cookie with mode 0600, replacing any previous cookie
// atomically. The daemon calls it at every start, which revokes old tokens.
func WriteCookie(dataDir string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("api: cookie: %w", err)
	}
	tok := hex.EncodeToString(b[:])
	if err := writeFileAtomic(dataDir, client.CookieFile, []byte(tok+"\n")); err != nil {
		return "", fmt.Errorf("api: cookie: %w", err)
	}
	return tok, nil
}

// writeFileAtomic writes data to dir/name with mode 0600 via a temporary
// file and a rename, so a reader sees the old content or the new, never a
// partial file, and a pre-existing file with looser permissions is replaced
// rather than reused.
func writeFileAtomic(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+name+".*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}
