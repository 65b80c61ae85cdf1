package overlay

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
)

func testSURB(t testing.TB) *onion.SURB {
	t.Helper()
	s := &onion.SURB{}
	s.FirstHop[0] = 7
	s.Header[0] = onion.Version
	s.Key[0] = 9
	return s
}

// TestFragmentReassemble: any message splits into fragments that decode
// and reassemble, in any order, exactly once.
func TestFragmentReassemble(t *testing.T) {
	for _, size := range []int{1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 5*ChunkSize + 17, MaxMessage} {
		msg := make([]byte, size)
		rand.Read(msg)
		var id [msgIDSize]byte
		rand.Read(id[:])
		frags, err := fragmentMessage(id, msg)
		if err != nil {
			t.Fatal(err)
		}
		r := newReassembler()
		now := time.Unix(1000, 0)
		var got []byte
		// Deliver in reverse order, each twice.
		for i := len(frags) - 1; i >= 0; i-- {
			if len(frags[i]) > maxInner {
				t.Fatalf("fragment %d of %d bytes does not fit a gateway payload (%d)", i, len(frags[i]), maxInner)
			}
			for range 2 {
				f, err := decodeFragment(frags[i])
				if err != nil {
					t.Fatal(err)
				}
				if m := r.add(f, now); m != nil {
					if got != nil {
						t.Fatalf("size %d: message completed twice", size)
					}
					got = m
				}
			}
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("size %d: reassembled %d bytes", size, len(got))
		}
		if r.pendingCount() != 0 {
			t.Fatalf("size %d: %d partial messages left", size, r.pendingCount())
		}
	}
	if _, err := fragmentMessage([msgIDSize]byte{}, make([]byte, MaxMessage+1)); err == nil {
		t.Fatal("oversized message fragmented")
	}
}

// TestReassemblyLimits: partial messages expire, and a flood of partial
// messages is bounded.
func TestReassemblyLimits(t *testing.T) {
	r := newReassembler()
	now := time.Unix(1000, 0)
	for i := range maxPendingMessages + 10 {
		var id [msgIDSize]byte
		id[0], id[1] = byte(i), byte(i>>8)
		r.add(fragment{id: id, index: 0, count: 2, chunk: make([]byte, ChunkSize)}, now)
	}
	if r.pendingCount() != maxPendingMessages {
		t.Fatalf("%d partial messages held, limit %d", r.pendingCount(), maxPendingMessages)
	}
	r.add(fragment{id: [msgIDSize]byte{0xff, 0xff}, index: 0, count: 2, chunk: []byte{1}}, now.Add(pendingTTL+2*time.Second))
	if r.pendingCount() != 1 || r.bytes != 1 {
		t.Fatalf("after expiry: %d partial, %d bytes", r.pendingCount(), r.bytes)
	}
}

// TestMessageRoundTrip: every message kind decodes to what was encoded.
func TestMessageRoundTrip(t *testing.T) {
	s := testSURB(t)
	d, err := dataMsg{surbs: []*onion.SURB{s, s}, sealed: []byte("sealed")}.encode()
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMessage(d)
	if err != nil || m.data == nil || len(m.data.surbs) != 2 || string(m.data.sealed) != "sealed" || *m.data.surbs[1] != *s {
		t.Fatalf("data: %+v %v", m, err)
	}
	q, _ := queryMsg{nonce: 42, target: [32]byte{1}, surbs: []*onion.SURB{s}}.encode()
	if m, err := decodeMessage(q); err != nil || m.query == nil || m.query.nonce != 42 || m.query.target[0] != 1 {
		t.Fatalf("query: %+v %v", m, err)
	}
	r, _ := replyMsg{nonce: 7, found: true, env: []byte("envelope")}.encode()
	if m, err := decodeMessage(r); err != nil || m.reply == nil || !m.reply.found || string(m.reply.env) != "envelope" {
		t.Fatalf("reply: %+v %v", m, err)
	}
	nf, _ := replyMsg{nonce: 7}.encode()
	if m, err := decodeMessage(nf); err != nil || m.reply == nil || m.reply.found || len(m.reply.closer) != 0 {
		t.Fatalf("not found: %+v %v", m, err)
	}
	nfc, _ := replyMsg{nonce: 8, closer: [][]byte{[]byte("rec1"), []byte("record two")}}.encode()
	if m, err := decodeMessage(nfc); err != nil || m.reply == nil || m.reply.found || len(m.reply.closer) != 2 || string(m.reply.closer[1]) != "record two" {
		t.Fatalf("not found with closer records: %+v %v", m, err)
	}
	if _, err := (replyMsg{closer: make([][]byte, maxCloser+1)}).encode(); err == nil {
		t.Error("encoded more closer records than the limit")
	}
	st := append([]byte{msgLeaseStore}, "envelope"...)
	if m, err := decodeMessage(st); err != nil || m.store == nil || string(m.store) != "envelope" {
		t.Fatalf("store: %+v %v", m, err)
	}
	g, _ := gatewayPayload(s, []byte("inner"))
	if s2, inner, err := decodeGateway(g); err != nil || *s2 != *s || string(inner) != "inner" {
		t.Fatalf("gateway: %v", err)
	}
	for _, bad := range [][]byte{nil, {'X'}, {msgData}, {msgLeaseQuery, 1}, {msgLeaseReply, 0, 0, 0, 0, 0, 0, 0, 0, 2},
		{msgLeaseReply, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {msgLeaseReply, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5, 'x'},
		{msgLeaseReply, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'x'}, {msgLeaseReply, 0, 0, 0, 0, 0, 0, 0, 0, 0, maxCloser + 1}} {
		if _, err := decodeMessage(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodeMessage(%x) = %v, want ErrMalformed", bad, err)
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	s := testSURB(f)
	d, _ := dataMsg{surbs: []*onion.SURB{s}, sealed: []byte("x")}.encode()
	q, _ := queryMsg{nonce: 1, surbs: []*onion.SURB{s}}.encode()
	r, _ := replyMsg{nonce: 1, found: true, env: []byte("envelope")}.encode()
	nf, _ := replyMsg{nonce: 1, closer: [][]byte{[]byte("record")}}.encode()
	for _, seed := range [][]byte{d, q, r, nf, {msgLeaseReply}, {msgLeaseStore, 0, 1, 'r', 's'}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if m.data == nil && m.store == nil && m.query == nil && m.reply == nil {
			t.Fatal("decoded to nothing without an error")
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	frags, _ := fragmentMessage([msgIDSize]byte{1}, make([]byte, ChunkSize+3))
	g, _ := gatewayPayload(testSURB(f), []byte("in"))
	for _, seed := range append(frags, g, []byte{payloadFragment}) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if fr, err := decodeFragment(b); err == nil {
			if fr.index >= fr.count || len(fr.chunk) > ChunkSize {
				t.Fatalf("accepted fragment %d/%d with %d bytes", fr.index, fr.count, len(fr.chunk))
			}
			newReassembler().add(fr, time.Unix(0, 0))
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
		if _, _, err := decodeGateway(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
	})
}

// FuzzReadLease: the lease message inside an opened envelope.
func FuzzReadLease(f *testing.F) {
	b, _ := appendLease(nil, leaseMsg{record: []byte("record"), set: []byte("set")})
	for _, seed := range [][]byte{b, {0, 1, 'r'}, {0, 0}, {}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := readLease(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		again, err := appendLease(nil, l)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("lease message re-encodes to %x (%v), want %x", again, err, b)
		}
	})
}

// FuzzDecodeReplyEntry: a stored reply-block entry, once it opened.
func FuzzDecodeReplyEntry(f *testing.F) {
	id, err := node.NewIdentity()
	if err != nil {
		f.Fatal(err)
	}
	_, keys, err := onion.NewSURB(rand.Reader, []onion.Hop{{Key: id.BoxKey().PublicKey()}})
	if err != nil {
		f.Fatal(err)
	}
	b, err := encodeReplyEntry(surbEntry{keys: keys, lease: true, peer: id.ID(), route: []node.ID{id.ID(), "r"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{replyEntryVersion, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeReplyEntry(b)
		if err != nil {
			return
		}
		again, err := encodeReplyEntry(e)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("entry re-encodes to %x (%v), want %x", again, err, b)
		}
	})
}
