package envelope

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/onemfive/onemfive/sdk/internal/pb"
)

func fullEnvelope() *Envelope {
	return &Envelope{
		ID:          "0123456789abcdef0123456789abcdef",
		Created:     time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
		ManCon:      VERYHIGH,
		Kind:        KindService,
		From:        "did:key:z6Mkfrom",
		To:          "vault",
		Service:     "vault",
		Operation:   "put",
		Headers:     map[string]string{"b": "2", "a": "1", "c": ""},
		ContentType: "application/octet-stream",
		Payload:     []byte{0, 1, 2, 0xff},
		ReplyTo:     "did:key:z6Mkreply",
		Slip:        []string{"keychain", "vault"},
		TTL:         90 * time.Second,
		Guarantee:   AtLeastOnce,
	}
}

func TestWireRoundTrip(t *testing.T) {
	cases := map[string]*Envelope{
		"full":    fullEnvelope(),
		"minimal": {ID: "x", Kind: KindP2P, To: "did:key:z6Mkto"},
		"epoch":   {ID: "x", Kind: KindWeb, To: "https://example.org/", Created: time.Unix(0, 0).UTC(), ManCon: NEO},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := in.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var out Envelope
			if err := out.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !out.Created.Equal(in.Created) {
				t.Fatalf("created: got %v want %v", out.Created, in.Created)
			}
			a, c := *in, out
			a.Created, c.Created = time.Time{}, time.Time{}
			if !reflect.DeepEqual(a, c) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", c, a)
			}
			b2, err := out.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Fatal("re-encoding the decoded envelope changed its bytes")
			}
		})
	}
}

func TestMarshalDeterministic(t *testing.T) {
	e := fullEnvelope()
	for k := range 50 {
		e.Headers[strings.Repeat("k", k+1)] = "v"
	}
	first, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, b) {
			t.Fatal("two encodings of the same envelope differ")
		}
	}
}

func TestMarshalValidates(t *testing.T) {
	e := fullEnvelope()
	e.Kind = "carrier-pigeon"
	if _, err := e.MarshalBinary(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Fatalf("got %v, want ErrInvalid naming the kind", err)
	}
}

func encodePB(t *testing.T, m *pb.Envelope) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnmarshalRejects(t *testing.T) {
	good := func() *pb.Envelope {
		return &pb.Envelope{Version: WireVersion, Id: "x", Kind: "p2p", To: "peer"}
	}
	cases := []struct {
		name   string
		data   []byte
		is     error
		substr string
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}, nil, "unmarshal"},
		{"no version", encodePB(t, &pb.Envelope{Id: "x", Kind: "p2p", To: "peer"}), ErrWireVersion, "version 0"},
		{"future version", func() []byte { m := good(); m.Version = 2; return encodePB(t, m) }(), ErrWireVersion, "version 2 (want 1)"},
		{"bad mancon", func() []byte { m := good(); m.Mancon = 42; return encodePB(t, m) }(), ErrInvalid, "ManCon level 42"},
		{"bad kind", func() []byte { m := good(); m.Kind = "smoke-signal"; return encodePB(t, m) }(), ErrInvalid, "smoke-signal"},
		{"no destination", func() []byte { m := good(); m.To = ""; return encodePB(t, m) }(), ErrInvalid, "destination"},
		{"negative ttl", func() []byte { m := good(); m.TtlNanos = -1; return encodePB(t, m) }(), ErrInvalid, "negative ttl"},
		{"bad time", func() []byte {
			m := good()
			m.Created = &timestamppb.Timestamp{Seconds: 1 << 62}
			return encodePB(t, m)
		}(), ErrInvalid, "created time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := Envelope{ID: "keep"}
			err := e.UnmarshalBinary(tc.data)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.substr) || !strings.HasPrefix(err.Error(), "envelope: ") {
				t.Fatalf("error %q should start with \"envelope: \" and mention %q", err, tc.substr)
			}
			if e.ID != "keep" {
				t.Fatal("failed unmarshal changed the envelope")
			}
		})
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	full, _ := fullEnvelope().MarshalBinary()
	f.Add(full)
	min, _ := (&Envelope{ID: "x", Kind: KindP2P, To: "y"}).MarshalBinary()
	f.Add(min)
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Envelope
		if err := e.UnmarshalBinary(b); err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("decoded envelope fails validation: %v", err)
		}
		out, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded envelope does not re-encode: %v", err)
		}
		var e2 Envelope
		if err := e2.UnmarshalBinary(out); err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		out2, err := e2.MarshalBinary()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable: %v", err)
		}
	})
}
