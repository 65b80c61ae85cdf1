package onion

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math/bits"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	//lint:ignore SA1019 used as the hash of a wide-block cipher, not as a MAC
	"golang.org/x/crypto/poly1305"
)

// KDF labels (prefixes of kdf's hash input); see SPEC.md section 3.
const (
	labelHop      = "onemfive/onion/v1/hop"
	labelSURBBody = "onemfive/onion/v1/surb-body"
)

// Layout of the per-hop key material, see SPEC.md section 3.
const (
	bodyKeyLen = 16 + 32 + 32 // Poly1305 r, AES-256 block key, AES-256-CTR key
	hopKeyLen  = 32 + 32 + bodyKeyLen + 32 + ReplayTagSize
	offHdrKey  = 0
	offMACKey  = 32
	offBodyKey = 64
	offBlind   = offBodyKey + bodyKeyLen
	offReplay  = offBlind + 32
)

type bodyKey [bodyKeyLen]byte

// hopKeys is everything one hop derives from its shared secret.
type hopKeys struct {
	header [32]byte // AES-256-CTR key for the routing info
	mac    [32]byte // HMAC-SHA256 key for the header MAC
	body   bodyKey
	blind  [32]byte // X25519 scalar that blinds the group element
	replay [ReplayTagSize]byte
}

// kdf expands a 32-byte secret into n bytes of key material:
// PRK = SHA-256(label || secret), then the AES-256-CTR keystream under PRK
// from an all-zero counter block. Label and secret fit one SHA-256 block, so
// this is one compression and a few AES blocks where HKDF-SHA256 would take
// 2n/32+4: it runs once per packet per hop, next to two scalar
// multiplications. The secret is a fresh Diffie-Hellman output or a random
// key and PRK is never revealed, so length extension does not apply.
func kdf(secret []byte, label string, n int) []byte {
	h := sha256.New()
	h.Write([]byte(label))
	h.Write(secret)
	var prk [sha256.Size]byte
	okm := make([]byte, n)
	b, _ := aes.NewCipher(h.Sum(prk[:0]))
	var iv [aes.BlockSize]byte
	cipher.NewCTR(b, iv[:]).XORKeyStream(okm, okm)
	return okm
}

func deriveHop(secret []byte) *hopKeys {
	okm := kdf(secret, labelHop, hopKeyLen)
	k := new(hopKeys)
	copy(k.header[:], okm[offHdrKey:])
	copy(k.mac[:], okm[offMACKey:])
	copy(k.body[:], okm[offBodyKey:])
	copy(k.blind[:], okm[offBlind:])
	copy(k.replay[:], okm[offReplay:])
	return k
}

func deriveSURBBody(master []byte) bodyKey {
	var k bodyKey
	copy(k[:], kdf(master, labelSURBBody, bodyKeyLen))
	return k
}

// headerStream XORs dst with the AES-256-CTR keystream of key (zero IV).
func headerStream(key *[32]byte, dst []byte) {
	b, _ := aes.NewCipher(key[:])
	var iv [aes.BlockSize]byte
	cipher.NewCTR(b, iv[:]).XORKeyStream(dst, dst)
}

func headerMAC(key *[32]byte, beta []byte) [MACSize]byte {
	h := hmac.New(sha256.New, key[:])
	h.Write([]byte{Version})
	h.Write(beta)
	var out [MACSize]byte
	copy(out[:], h.Sum(nil))
	return out
}

func macEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// The body cipher is a hash-encrypt-hash wide-block cipher (the HBSH
// construction of Adiantum) over the whole body: a tweakless strong
// pseudorandom permutation, so changing any bit of a body turns the whole
// plaintext into noise. B = L (16 bytes) || R.
//
//	forward:  M = L + H(R); C = AES(Ke, M); R' = R xor CTR(Ks, C); L' = C - H(R')
//	inverse:  C = L' + H(R'); R = R' xor CTR(Ks, C); M = AES^-1(Ke, C); L = M - H(R)
//
// H is Poly1305 with key r || 0^16 (the polynomial hash mod 2^130-5, taken
// mod 2^128), + and - are mod 2^128 on little-endian integers, CTR is
// AES-256-CTR with C as the initial counter block.

func polyHash(k *bodyKey, msg []byte) [16]byte {
	var key [32]byte
	copy(key[:16], k[:16])
	var out [16]byte
	poly1305.Sum(&out, msg, &key)
	return out
}

// add128 sets b (16 bytes) to b + h, or b - h, mod 2^128, little endian.
func add128(b []byte, h [16]byte, sub bool) {
	a0, a1 := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:16])
	h0, h1 := binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:])
	var c uint64
	if sub {
		a0, c = bits.Sub64(a0, h0, 0)
		a1, _ = bits.Sub64(a1, h1, c)
	} else {
		a0, c = bits.Add64(a0, h0, 0)
		a1, _ = bits.Add64(a1, h1, c)
	}
	binary.LittleEndian.PutUint64(b[:8], a0)
	binary.LittleEndian.PutUint64(b[8:16], a1)
}

// wideEncrypt applies the forward permutation in place (senders).
func wideEncrypt(k *bodyKey, b []byte) {
	l, r := b[:16], b[16:]
	add128(l, polyHash(k, r), false)
	ke, _ := aes.NewCipher(k[16:48])
	ke.Encrypt(l, l)
	ks, _ := aes.NewCipher(k[48:80])
	cipher.NewCTR(ks, l).XORKeyStream(r, r)
	add128(l, polyHash(k, r), true)
}

// wideDecrypt applies the inverse permutation in place (relays).
func wideDecrypt(k *bodyKey, b []byte) {
	l, r := b[:16], b[16:]
	add128(l, polyHash(k, r), false)
	ks, _ := aes.NewCipher(k[48:80])
	cipher.NewCTR(ks, l).XORKeyStream(r, r)
	ke, _ := aes.NewCipher(k[16:48])
	ke.Decrypt(l, l)
	add128(l, polyHash(k, r), true)
}

// x25519 is the X25519 function of RFC 7748 (scalar clamped, top bit of
// the u-coordinate ignored). crypto/ecdh offers it only through
// NewPrivateKey, which also computes the public key: a second full scalar
// multiplication per blinding. This ladder costs one, and a test checks it
// against crypto/ecdh.
func x25519(scalar, u *[32]byte) ([32]byte, error) {
	var e [32]byte
	copy(e[:], scalar[:])
	e[0] &= 248
	e[31] &= 127
	e[31] |= 64

	var x1, x2, z2, x3, z3, t0, t1 field.Element
	if _, err := x1.SetBytes(u[:]); err != nil {
		return [32]byte{}, err
	}
	x2.One()
	x3.Set(&x1)
	z3.One()
	swap := 0
	for pos := 254; pos >= 0; pos-- {
		bit := int(e[pos/8]>>(pos&7)) & 1
		swap ^= bit
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = bit

		t0.Subtract(&x3, &z3)
		t1.Subtract(&x2, &z2)
		x2.Add(&x2, &z2)
		z2.Add(&x3, &z3)
		z3.Multiply(&t0, &x2)
		z2.Multiply(&z2, &t1)
		t0.Square(&t1)
		t1.Square(&x2)
		x3.Add(&z3, &z2)
		z2.Subtract(&z3, &z2)
		x2.Multiply(&t1, &t0)
		t1.Subtract(&t1, &t0)
		z2.Square(&z2)
		z3.Mult32(&t1, 121666)
		x3.Square(&x3)
		t0.Add(&t0, &z3)
		z3.Multiply(&x1, &z2)
		z2.Multiply(&t1, &t0)
	}
	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)
	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	var out [32]byte
	copy(out[:], x2.Bytes())
	if subtle.ConstantTimeCompare(out[:], make([]byte, 32)) == 1 {
		return out, errLowOrder
	}
	return out, nil
}

var errLowOrder = errors.New("low order point")

// inv8 is 8^-1 mod the group order, little endian.
var inv8 = mustScalar([]byte{
	0x79, 0x2f, 0xdc, 0xe2, 0x29, 0xe5, 0x06, 0x61, 0xd0, 0xda, 0x1c, 0x7d, 0xb3, 0x9d, 0xd3, 0x07,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x06,
})

func mustScalar(b []byte) *edwards25519.Scalar {
	s, err := edwards25519.NewScalar().SetCanonicalBytes(b)
	if err != nil {
		panic(err)
	}
	return s
}

// clampedScalar returns the scalar k, in X25519's clamped form (a multiple
// of 8 in [2^254, 2^255)), such that X25519(k, P) = c*P for every P of the
// prime-order subgroup. k*P and -k*P share their u-coordinate, so k may
// stand for c or -c: with t = c/8 mod l, 8t or 8(l-t) is clamped unless t
// lies within 2^125 of 0 or l, which happens with probability 2^-126; ok is
// false then and the caller picks another ephemeral key.
func clampedScalar(c *edwards25519.Scalar) (k [32]byte, ok bool) {
	t := edwards25519.NewScalar().Multiply(c, inv8)
	tb := t.Bytes()
	if tb[31] < 0x08 || tb[31] > 0x0f {
		tb = edwards25519.NewScalar().Negate(t).Bytes()
		if tb[31] < 0x08 || tb[31] > 0x0f {
			return k, false
		}
	}
	var carry byte
	for i := range 32 {
		k[i] = tb[i]<<3 | carry
		carry = tb[i] >> 5
	}
	return k, true
}

// clampScalar reduces an X25519 scalar, clamped as RFC 7748 says, mod l.
func clampScalar(b []byte) *edwards25519.Scalar {
	s, err := edwards25519.NewScalar().SetBytesWithClamping(b)
	if err != nil {
		panic(err) // only on a wrong length, which callers rule out
	}
	return s
}
