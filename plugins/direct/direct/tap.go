package direct

import (
	"encoding/hex"
	"fmt"
	"os"
	"sync"
)

// tap appends one lowercase hex line per packet payload to a file, so a
// test can check what the plugin saw (only ciphertext). A nil *tap does
// nothing.
type tap struct {
	mu  sync.Mutex
	f   *os.File
	buf []byte
	err error // first write error, reported by close
}

func openTap(path string) (*tap, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("direct: tap: %w", err)
	}
	return &tap{f: f}, nil
}

func (t *tap) write(data []byte) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil || t.err != nil {
		return
	}
	t.buf = hex.AppendEncode(t.buf[:0], data)
	t.buf = append(t.buf, '\n')
	if _, err := t.f.Write(t.buf); err != nil {
		t.err = err
	}
}

func (t *tap) close() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	if t.err != nil {
		err = t.err
	}
	if err != nil {
		return fmt.Errorf("tap: %w", err)
	}
	return nil
}
