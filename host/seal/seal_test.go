package seal

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"testing"
)

func key(t testing.TB) *ecdh.PrivateKey {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	a, b := key(t), key(t)
	for _, n := range []int{0, 1, MinPacket - Overhead, MinPacket - Overhead + 1, 5000, MaxMessage} {
		msg := bytes.Repeat([]byte{0xab}, n)
		pkt, err := Seal(a, b.PublicKey(), msg)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		want, _ := PacketSize(n)
		if len(pkt) != want || len(pkt)&(len(pkt)-1) != 0 {
			t.Fatalf("n=%d: packet %d bytes, want bucket %d", n, len(pkt), want)
		}
		if n > 8 && bytes.Contains(pkt, msg[:8]) {
			t.Fatalf("n=%d: plaintext visible in packet", n)
		}
		s, got, err := Open(b, pkt)
		if err != nil {
			t.Fatalf("n=%d: open: %v", n, err)
		}
		if !s.Equal(a.PublicKey()) || !bytes.Equal(got, msg) {
			t.Fatalf("n=%d: wrong sender or message", n)
		}
	}
	if _, err := Seal(a, b.PublicKey(), make([]byte, MaxMessage+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	a, b, c := key(t), key(t), key(t)
	pkt, err := Seal(a, b.PublicKey(), []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(c, pkt); !errors.Is(err, ErrOpen) {
		t.Fatalf("wrong recipient opened: %v", err)
	}
	for _, i := range []int{0, 1, 40, 100, len(pkt) - 1} {
		bad := bytes.Clone(pkt)
		bad[i] ^= 0x80
		if _, _, err := Open(b, bad); !errors.Is(err, ErrOpen) {
			t.Fatalf("bit flip at %d accepted: %v", i, err)
		}
	}
	if _, _, err := Open(b, pkt[:len(pkt)-1]); !errors.Is(err, ErrOpen) {
		t.Fatalf("truncated accepted: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	a, b := key(f), key(f)
	pkt, _ := Seal(a, b.PublicKey(), []byte("seed"))
	f.Add(pkt)
	f.Add(make([]byte, MinPacket))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, msg, err := Open(b, data)
		if err == nil && len(msg) > len(data) {
			t.Fatal("message longer than packet")
		}
	})
}

func BenchmarkSeal1K(b *testing.B) {
	a, r := key(b), key(b)
	msg := make([]byte, 512)
	for b.Loop() {
		if _, err := Seal(a, r.PublicKey(), msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1K(b *testing.B) {
	a, r := key(b), key(b)
	pkt, _ := Seal(a, r.PublicKey(), make([]byte, 512))
	for b.Loop() {
		if _, _, err := Open(r, pkt); err != nil {
			b.Fatal(err)
		}
	}
}
