package node

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

func TestBlindSignVerify(t *testing.T) {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	label := []byte("period 20419")
	bk, err := id.Blind(label)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := BlindPublic(id.SigningKey(), label)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pub, bk.Public()) {
		t.Fatalf("BlindPublic %x differs from the private side's %x", pub, bk.Public())
	}
	if bytes.Equal(pub, id.SigningKey()) {
		t.Fatal("blinded key equals the node key")
	}
	msg := []byte("lease set")
	sig := bk.Sign(msg)
	if !ed25519.Verify(pub, msg, sig) {
		t.Fatal("blinded signature does not verify under the blinded key")
	}
	if !bytes.Equal(sig, bk.Sign(msg)) {
		t.Error("signing is not deterministic")
	}
	if ed25519.Verify(id.SigningKey(), msg, sig) {
		t.Error("blinded signature verifies under the unblinded key")
	}
	if ed25519.Verify(pub, []byte("other"), sig) {
		t.Error("signature verifies for another message")
	}
	// Another label gives an unrelated key; so does another node.
	other, err := BlindPublic(id.SigningKey(), []byte("period 20420"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, pub) || ed25519.Verify(other, msg, sig) {
		t.Error("two labels give the same key or a shared signature")
	}
	id2, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	bk2, err := id2.Blind(label)
	if err != nil {
		t.Fatal(err)
	}
	if ed25519.Verify(pub, msg, bk2.Sign(msg)) {
		t.Error("another node's blinded signature verifies under this node's blinded key")
	}
}

func TestBlindPublicRejectsBadKeys(t *testing.T) {
	if _, err := BlindPublic(make([]byte, 31), nil); err == nil {
		t.Error("31-byte key accepted")
	}
	// About half of all y coordinates have no point; find one.
	rejected := false
	for y := byte(2); y < 64 && !rejected; y++ {
		b := make([]byte, 32)
		b[0] = y
		_, err := BlindPublic(b, nil)
		rejected = err != nil
	}
	if !rejected {
		t.Error("no y coordinate below 64 was rejected as a point")
	}
}
