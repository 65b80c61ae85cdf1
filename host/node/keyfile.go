package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Key file layout (version 1):
//
//	"OM5K" | version (1) | mode (1) | mode data
//	mode 0 (plain):      secret (64)
//	mode 1 (passphrase): salt (16) | nonce (24) | XChaCha20-Poly1305(secret)
//
// The passphrase key is Argon2id(passphrase, salt, t=3, m=64 MiB, p=2).
// Without a passphrase the file relies on its 0600 mode alone; the daemon
// warns about that.
const (
	keyMagic       = "OM5K"
	keyVersion     = 1
	modePlain      = 0
	modePassphrase = 1
)

// ErrWrongPassphrase means the key file could not be decrypted.
var ErrWrongPassphrase = errors.New("node: key file: wrong passphrase or corrupted file")

// ErrPassphraseRequired means the key file is encrypted and no passphrase was given.
var ErrPassphraseRequired = errors.New("node: key file is encrypted: a passphrase is required (ONEMFIVE_PASSPHRASE)")

func deriveKey(pass, salt []byte) []byte {
	return argon2.IDKey(pass, salt, 3, 64<<10, 2, chacha20poly1305.KeySize)
}

// LoadOrCreate reads the identity at path, creating it (mode 0600) when the
// file does not exist. An empty passphrase stores the keys unencrypted. The
// bool result reports whether the identity was created.
func LoadOrCreate(path string, passphrase []byte) (*Identity, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id, err := NewIdentity()
		if err != nil {
			return nil, false, err
		}
		if err := Save(path, id, passphrase); err != nil {
			return nil, false, err
		}
		return id, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("node: read key file: %w", err)
	}
	id, err := decodeKeyFile(b, passphrase)
	if err != nil {
		return nil, false, fmt.Errorf("%w (file %s)", err, path)
	}
	return id, false, nil
}

// Save writes the identity atomically with mode 0600.
func Save(path string, id *Identity, passphrase []byte) error {
	b, err := encodeKeyFile(id, passphrase)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("node: key dir: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("node: write key file: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("node: write key file: %w", err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("node: sync key file: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("node: sync key file: %w", err)
	}
	return nil
}

func encodeKeyFile(id *Identity, pass []byte) ([]byte, error) {
	secret := id.marshalSecret()
	out := []byte(keyMagic)
	out = append(out, keyVersion)
	if len(pass) == 0 {
		out = append(out, modePlain)
		return append(out, secret...), nil
	}
	out = append(out, modePassphrase)
	var salt [16]byte
	var nonce [chacha20poly1305.NonceSizeX]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.NewX(deriveKey(pass, salt[:]))
	if err != nil {
		return nil, err
	}
	out = append(out, salt[:]...)
	out = append(out, nonce[:]...)
	return aead.Seal(out, nonce[:], secret, out[:6]), nil
}

func decodeKeyFile(b, pass []byte) (*Identity, error) {
	if len(b) < 6 || string(b[:4]) != keyMagic {
		return nil, errors.New("node: key file: not an onemfive key file")
	}
	if b[4] != keyVersion {
		return nil, fmt.Errorf("node: key file: unsupported version %d", b[4])
	}
	switch b[5] {
	case modePlain:
		return unmarshalSecret(b[6:])
	case modePassphrase:
		if len(pass) == 0 {
			return nil, ErrPassphraseRequired
		}
		rest := b[6:]
		if len(rest) < 16+chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
			return nil, errors.New("node: key file: truncated")
		}
		salt, nonce, ct := rest[:16], rest[16:16+chacha20poly1305.NonceSizeX], rest[16+chacha20poly1305.NonceSizeX:]
		aead, err := chacha20poly1305.NewX(deriveKey(pass, salt))
		if err != nil {
			return nil, err
		}
		secret, err := aead.Open(nil, nonce, ct, b[:6])
		if err != nil {
			return nil, ErrWrongPassphrase
		}
		return unmarshalSecret(secret)
	default:
		return nil, fmt.Errorf("node: key file: unknown protection mode %d", b[5])
	}
}
