package onion

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"filippo.io/edwards25519"
)

func TestX25519RFC7748(t *testing.T) {
	// RFC 7748 section 5.2, first vector.
	var k, u [32]byte
	hex.Decode(k[:], []byte("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"))
	hex.Decode(u[:], []byte("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
	got, err := x25519(&k, &u)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got[:]) != "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" {
		t.Fatalf("got %x", got)
	}
}

func TestX25519MatchesECDH(t *testing.T) {
	for range 50 {
		var k, u [32]byte
		rand.Read(k[:])
		rand.Read(u[:])
		mine, err1 := x25519(&k, &u)
		priv, _ := ecdh.X25519().NewPrivateKey(k[:])
		pub, _ := ecdh.X25519().NewPublicKey(u[:])
		theirs, err2 := priv.ECDH(pub)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && !bytes.Equal(mine[:], theirs)) {
			t.Fatalf("k=%x u=%x: %x/%v vs %x/%v", k, u, mine, err1, theirs, err2)
		}
	}
	var k, zero [32]byte
	rand.Read(k[:])
	if _, err := x25519(&k, &zero); err == nil {
		t.Fatal("low-order point accepted")
	}
}

func TestInv8(t *testing.T) {
	eight := make([]byte, 32)
	eight[0] = 8
	one := make([]byte, 32)
	one[0] = 1
	p := edwards25519.NewScalar().Multiply(inv8, mustScalar(eight))
	if !bytes.Equal(p.Bytes(), one) {
		t.Fatalf("8 * inv8 = %x", p.Bytes())
	}
}

// TestClampedScalar checks the sender's shortcut: X25519 by the clamped form
// of clamp(x)*clamp(b) equals X25519(b, X25519(x, Y)), the relay's order.
func TestClampedScalar(t *testing.T) {
	for range 30 {
		var x, b [32]byte
		rand.Read(x[:])
		rand.Read(b[:])
		y, _ := ecdh.X25519().GenerateKey(rand.Reader)
		var yu [32]byte
		copy(yu[:], y.PublicKey().Bytes())
		xy, _ := x25519(&x, &yu)
		want, _ := x25519(&b, &xy)

		c := clampScalar(x[:])
		c.Multiply(c, clampScalar(b[:]))
		k, ok := clampedScalar(c)
		if !ok {
			t.Fatal("no clamped form")
		}
		if k[0]&7 != 0 || k[31]&0xc0 != 0x40 {
			t.Fatalf("k=%x is not clamped", k)
		}
		got, _ := x25519(&k, &yu)
		if got != want {
			t.Fatalf("got %x want %x", got, want)
		}
	}
}

func TestWideBlock(t *testing.T) {
	var k bodyKey
	rand.Read(k[:])
	orig := make([]byte, BodySize)
	rand.Read(orig)
	b := bytes.Clone(orig)
	wideEncrypt(&k, b)
	if bytes.Equal(b, orig) {
		t.Fatal("no change")
	}
	c := bytes.Clone(b)
	wideDecrypt(&k, b)
	if !bytes.Equal(b, orig) {
		t.Fatal("decrypt(encrypt(x)) != x")
	}
	// One flipped bit anywhere changes about half the bits of both halves.
	for _, pos := range []int{0, 15, 16, BodySize - 1} {
		d := bytes.Clone(c)
		d[pos] ^= 1
		wideDecrypt(&k, d)
		diffHead, diffTail := 0, 0
		for i := range 16 {
			if d[i] != orig[i] {
				diffHead++
			}
		}
		for i := BodySize - 64; i < BodySize; i++ {
			if d[i] != orig[i] {
				diffTail++
			}
		}
		if diffHead < 8 || diffTail < 48 {
			t.Fatalf("flip at %d: only %d/16 head and %d/64 tail bytes differ", pos, diffHead, diffTail)
		}
	}
}
