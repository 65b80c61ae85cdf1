package node

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string][]string{"direct": {"127.0.0.1:4018", "[::1]:4018"}, "tor": {"abc.onion:1"}}
	issued := time.UnixMilli(1_790_000_000_123).UTC()
	b, err := id.NewRecord(addrs, issued)
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != id.ID() || !r.Issued.Equal(issued) || !bytes.Equal(r.BoxKey.Bytes(), id.BoxKey().PublicKey().Bytes()) {
		t.Fatalf("decoded %+v", r)
	}
	if len(r.Addresses) != 2 || r.Addresses["direct"][1] != "[::1]:4018" || r.Addresses["tor"][0] != "abc.onion:1" {
		t.Fatalf("addresses %v", r.Addresses)
	}
	txt := EncodeText(b)
	r2, raw, err := DecodeText(txt)
	if err != nil || r2.ID != id.ID() || !bytes.Equal(raw, b) {
		t.Fatalf("text round trip: %v", err)
	}
	if _, _, err := ParseID(string(id.ID())); err != nil {
		t.Fatal(err)
	}
}

func TestRecordTamperDetected(t *testing.T) {
	id, _ := NewIdentity()
	b, err := id.NewRecord(map[string][]string{"direct": {"127.0.0.1:1"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		if _, err := DecodeRecord(c); !errors.Is(err, ErrBadRecord) {
			t.Fatalf("flip at byte %d not rejected: %v", i, err)
		}
	}
	if _, err := DecodeRecord(b[:len(b)-1]); err == nil {
		t.Fatal("truncated record accepted")
	}
}

func TestParseIDRejectsGarbage(t *testing.T) {
	for _, s := range []string{"", "abc", "00000000000000000000000000000000000000000000000000000"} {
		if _, _, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) accepted", s)
		}
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	for _, pass := range [][]byte{nil, []byte("correct horse")} {
		path := filepath.Join(dir, "k"+string(pass))
		id, created, err := LoadOrCreate(path, pass)
		if err != nil || !created {
			t.Fatalf("create: %v %v", created, err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v %v", st.Mode(), err)
		}
		again, created, err := LoadOrCreate(path, pass)
		if err != nil || created || again.ID() != id.ID() || !bytes.Equal(again.marshalSecret(), id.marshalSecret()) {
			t.Fatalf("reload: %v %v", created, err)
		}
		raw, _ := os.ReadFile(path)
		if len(pass) > 0 {
			if bytes.Contains(raw, id.marshalSecret()[:32]) {
				t.Fatal("encrypted key file contains the plain seed")
			}
			if _, _, err := LoadOrCreate(path, []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
			if _, _, err := LoadOrCreate(path, nil); !errors.Is(err, ErrPassphraseRequired) {
				t.Fatalf("missing passphrase: %v", err)
			}
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	id, _ := NewIdentity()
	b, _ := id.NewRecord(map[string][]string{"direct": {"127.0.0.1:4018"}}, time.Unix(1, 0))
	f.Add(b)
	f.Add([]byte("OM5R\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRecord(data)
		if err != nil {
			return
		}
		// A record that decodes must re-encode to the same bytes.
		body, err := r.encodeBody()
		if err != nil {
			t.Fatalf("decoded record does not re-encode: %v", err)
		}
		if !bytes.Equal(body, data[:len(data)-64]) {
			t.Fatal("decoded record re-encodes differently")
		}
	})
}

// TestRecordMixSection: mix-key records ride in the signed record, come
// back byte for byte, and are covered by the signature; a record without
// them has no mix section at all.
func TestRecordMixSection(t *testing.T) {
	id, _ := NewIdentity()
	mix := [][]byte{bytes.Repeat([]byte{7}, 157), bytes.Repeat([]byte{9}, 157)}
	b, err := id.NewRecord(map[string][]string{"direct": {"127.0.0.1:1"}}, time.Now(), mix...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Mix) != 2 || !bytes.Equal(r.Mix[0], mix[0]) || !bytes.Equal(r.Mix[1], mix[1]) {
		t.Fatalf("mix records %d, want 2 equal", len(r.Mix))
	}
	c := bytes.Clone(b)
	c[len(c)-100] ^= 1 // inside the second mix record
	if _, err := DecodeRecord(c); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("tampered mix record accepted: %v", err)
	}
	plain, _ := id.NewRecord(nil, time.Now())
	if r, err := DecodeRecord(plain); err != nil || r.Mix != nil {
		t.Fatalf("plain record: %v, mix %v", err, r.Mix)
	}
	if _, err := id.NewRecord(nil, time.Now(), mix[0], mix[0], mix[0], mix[0], mix[0]); err == nil {
		t.Fatal("five mix records accepted")
	}
}
