package lan

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

func newRecord(t testing.TB, id *node.Identity, issued time.Time, addrs map[string][]string) []byte {
	t.Helper()
	rec, err := id.NewRecord(addrs, issued)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func newIdentity(t testing.TB) *node.Identity {
	t.Helper()
	id, err := node.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestFrameRoundTrip(t *testing.T) {
	id := newIdentity(t)
	rec := newRecord(t, id, time.Now(), map[string][]string{Network: {"10.77.0.2:4019"}, "tor": {"x.onion:1"}})
	b, err := appendFrame(nil, 42, rec)
	if err != nil {
		t.Fatal(err)
	}
	h, err := verify(b, "")
	if err != nil {
		t.Fatal(err)
	}
	if h.seq != 42 || !bytes.Equal(h.raw, rec) || h.rec.ID != id.ID() {
		t.Fatalf("decoded seq %d id %s", h.seq, h.rec.ID)
	}
	if _, err := verify(b, id.ID()); !errors.Is(err, errSelf) {
		t.Fatalf("own announcement: %v", err)
	}
}

func TestFrameRejects(t *testing.T) {
	id := newIdentity(t)
	rec := newRecord(t, id, time.Now(), map[string][]string{Network: {"10.77.0.2:4019"}})
	good, _ := appendFrame(nil, 1, rec)
	noLan, _ := appendFrame(nil, 1, newRecord(t, id, time.Now(), map[string][]string{"tor": {"x.onion:1"}}))
	forged := bytes.Clone(good)
	forged[frameHeader+80] ^= 1 // inside the signed body
	badSig := bytes.Clone(good)
	badSig[len(badSig)-1] ^= 1
	tooLong := append(bytes.Clone(good), 0)
	badMagic := bytes.Clone(good)
	badMagic[0] = 'X'
	badVersion := bytes.Clone(good)
	badVersion[4] = 2
	for name, b := range map[string][]byte{
		"empty": nil, "header only": good[:frameHeader], "truncated": good[:len(good)-1], "trailing byte": tooLong,
		"magic": badMagic, "version": badVersion, "forged body": forged, "bad signature": badSig,
		"no lan address": noLan, "oversize": make([]byte, MaxFrameSize+1),
	} {
		if _, err := verify(b, ""); !errors.Is(err, ErrBadFrame) {
			t.Errorf("%s: %v, want ErrBadFrame", name, err)
		}
	}
	if _, err := appendFrame(nil, 1, make([]byte, node.MaxRecordSize+1)); err == nil {
		t.Error("oversize record framed")
	}
}

func FuzzDecodeFrame(f *testing.F) {
	id := newIdentity(f)
	rec := newRecord(f, id, time.UnixMilli(1700000000000), map[string][]string{Network: {"10.77.0.2:4019"}, "i2p": {"x.b32.i2p"}})
	good, _ := appendFrame(nil, 7, rec)
	f.Add(good)
	f.Add(good[:frameHeader])
	f.Add([]byte("OM5A\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeFrame(b)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) {
				t.Fatalf("error %v does not wrap ErrBadFrame", err)
			}
			return
		}
		again, err := appendFrame(nil, a.seq, a.record)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %v", err)
		}
		h, err := verify(b, "")
		if err != nil {
			return
		}
		// A verified record names the key that signed it and is carried
		// unchanged.
		if h.rec.ID != node.IDFromKey(h.rec.SigningKey) || !bytes.Equal(h.raw, a.record) || len(h.rec.Addresses[Network]) == 0 {
			t.Fatalf("verified record %s is inconsistent", h.rec.ID)
		}
	})
}
