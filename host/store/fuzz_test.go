package store

import (
	"reflect"
	"testing"
	"time"
)

// The fuzzers check that decoders never panic on arbitrary bytes and that
// whatever decodes survives an encode/decode round trip unchanged. (Byte
// equality is not required: Go's varint decoder accepts over-long forms.)

func FuzzDecodeOutgoing(f *testing.F) {
	f.Add(encodeOutgoing(&Outgoing{ID: "a", Dest: "n", Data: []byte("x"), Created: t0, NextAttempt: t0, Expires: t0.Add(time.Hour), Attempts: 3}))
	f.Add(encodeOutgoing(&Outgoing{ID: "zero"}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeOutgoing(b)
		if err != nil {
			return
		}
		again, err := decodeOutgoing(encodeOutgoing(&o))
		if err != nil || !reflect.DeepEqual(o, again) {
			t.Fatalf("round trip: %+v -> %+v, %v", o, again, err)
		}
	})
}

func FuzzDecodeInbox(f *testing.F) {
	f.Add(encodeInbox(&InboxItem{ID: "m", From: "p", Received: t0, Data: []byte("hello")}))
	f.Add(encodeInbox(&InboxItem{}))
	f.Add([]byte{1, 5, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeInbox(7, b)
		if err != nil {
			return
		}
		again, err := decodeInbox(7, encodeInbox(&it))
		if err != nil || !reflect.DeepEqual(it, again) {
			t.Fatalf("round trip: %+v -> %+v, %v", it, again, err)
		}
	})
}

func FuzzDecodeSeen(f *testing.F) {
	f.Add(encodeSeen(seenRecord{Received: t0, Seq: 42}))
	f.Add(encodeSeen(seenRecord{}))
	f.Add([]byte{1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeSeen(b)
		if err != nil {
			return
		}
		again, err := decodeSeen(encodeSeen(r))
		if err != nil || !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip: %+v -> %+v, %v", r, again, err)
		}
	})
}
