package onion

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"
)

type testNode struct {
	hop  Hop
	priv *ecdh.PrivateKey
}

func newNodes(t testing.TB, n int) []testNode {
	t.Helper()
	nodes := make([]testNode, n)
	for i := range nodes {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i].priv = k
		nodes[i].hop.Key = k.PublicKey()
		rand.Read(nodes[i].hop.ID[:])
		nodes[i].hop.Delay = time.Duration(i+1) * 1500 * time.Millisecond
	}
	return nodes
}

func pathOf(nodes []testNode) []Hop {
	p := make([]Hop, len(nodes))
	for i, n := range nodes {
		p[i] = n.hop
	}
	return p
}

// walk carries pkt along nodes and returns the final hop's result, checking
// every relay's view on the way.
func walk(t *testing.T, nodes []testNode, pkt []byte) *Result {
	t.Helper()
	for i, n := range nodes {
		if len(pkt) != PacketSize {
			t.Fatalf("hop %d: packet %d bytes, want %d", i, len(pkt), PacketSize)
		}
		res, err := Unwrap(n.priv, pkt)
		if err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		if i == len(nodes)-1 {
			if res.Packet != nil {
				t.Fatalf("final hop got a next packet")
			}
			return res
		}
		c := res.Command
		if c.Kind != KindRelay || c.Next != nodes[i+1].hop.ID || c.Delay != n.hop.Delay {
			t.Fatalf("hop %d: command %+v, want relay to hop %d after %v", i, c, i+1, n.hop.Delay)
		}
		if res.Payload != nil {
			t.Fatalf("hop %d: relay sees a payload", i)
		}
		if bytes.Equal(res.Packet[offAlpha:offBeta], pkt[offAlpha:offBeta]) {
			t.Fatalf("hop %d: group element not re-blinded", i)
		}
		pkt = res.Packet
	}
	panic("unreachable")
}

func TestRoundTrip(t *testing.T) {
	for n := 1; n <= MaxHops; n++ {
		t.Run(fmt.Sprintf("%dhops", n), func(t *testing.T) {
			nodes := newNodes(t, n)
			for _, size := range []int{0, 1, 100, PayloadCapacity} {
				payload := bytes.Repeat([]byte{byte(size)}, size)
				pkt, err := NewPacket(rand.Reader, pathOf(nodes), payload)
				if err != nil {
					t.Fatal(err)
				}
				res := walk(t, nodes, pkt)
				if res.Command.Kind != KindDeliver {
					t.Fatalf("final command %v", res.Command.Kind)
				}
				if !bytes.Equal(res.Payload, payload) {
					t.Fatalf("payload of %d bytes came back as %d bytes", size, len(res.Payload))
				}
			}
		})
	}
}

func TestNewPacketRejects(t *testing.T) {
	nodes := newNodes(t, 6)
	if _, err := NewPacket(rand.Reader, pathOf(nodes[:2]), make([]byte, PayloadCapacity+1)); !errors.Is(err, ErrPayloadSize) {
		t.Fatalf("oversize payload: %v", err)
	}
	if _, err := NewPacket(rand.Reader, pathOf(nodes), nil); !errors.Is(err, ErrPath) {
		t.Fatalf("6 hops: %v", err)
	}
	if _, err := NewPacket(rand.Reader, nil, nil); !errors.Is(err, ErrPath) {
		t.Fatalf("no hops: %v", err)
	}
	p := pathOf(nodes[:2])
	p[1].Key = nil
	if _, err := NewPacket(rand.Reader, p, nil); !errors.Is(err, ErrPath) {
		t.Fatalf("nil key: %v", err)
	}
	p = pathOf(nodes[:2])
	p[0].Delay = MaxDelay + time.Millisecond
	if _, err := NewPacket(rand.Reader, p, nil); !errors.Is(err, ErrPath) {
		t.Fatalf("long delay: %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	nodes := newNodes(t, 3)
	pkt, _ := NewPacket(rand.Reader, pathOf(nodes), []byte("x"))
	if _, err := Unwrap(nodes[1].priv, pkt); !errors.Is(err, ErrMAC) {
		t.Fatalf("hop 1's key on hop 0's packet: %v", err)
	}
}

func TestHeaderTampering(t *testing.T) {
	nodes := newNodes(t, 3)
	pkt, _ := NewPacket(rand.Reader, pathOf(nodes), []byte("x"))
	good, err := Unwrap(nodes[0].priv, pkt)
	if err != nil {
		t.Fatal(err)
	}
	for pos := offAlpha; pos < offBody; pos++ {
		for _, bit := range []byte{0x01, 0x80} {
			if pos == offBeta-1 && bit == 0x80 {
				continue // X25519 ignores the top bit: see TestAlphaTopBit
			}
			bad := bytes.Clone(pkt)
			bad[pos] ^= bit
			if _, err := Unwrap(nodes[0].priv, bad); !errors.Is(err, ErrMAC) && !errors.Is(err, ErrKey) {
				t.Fatalf("flip %#x at %d: %v", bit, pos, err)
			}
		}
	}
	bad := bytes.Clone(pkt)
	bad[0] = Version + 1
	if _, err := Unwrap(nodes[0].priv, bad); !errors.Is(err, ErrVersion) {
		t.Fatalf("version: %v", err)
	}
	// A flip in the next hop's header is caught there.
	next := bytes.Clone(good.Packet)
	next[offBeta+7] ^= 4
	if _, err := Unwrap(nodes[1].priv, next); !errors.Is(err, ErrMAC) {
		t.Fatalf("flip at hop 1: %v", err)
	}
}

// TestAlphaTopBit documents the one malleable header bit: re-encodings of
// the group element reach the same shared secret, hence the same replay tag,
// so the replay cache catches them.
func TestAlphaTopBit(t *testing.T) {
	nodes := newNodes(t, 2)
	pkt, _ := NewPacket(rand.Reader, pathOf(nodes), []byte("x"))
	a, err := Unwrap(nodes[0].priv, pkt)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(pkt)
	bad[offBeta-1] ^= 0x80
	b, err := Unwrap(nodes[0].priv, bad)
	if err != nil {
		t.Fatal(err)
	}
	if a.ReplayTag != b.ReplayTag {
		t.Fatal("re-encoded group element has a different replay tag")
	}
}

func TestBodyTampering(t *testing.T) {
	nodes := newNodes(t, 3)
	for _, pos := range []int{offBody, offBody + 15, offBody + 16, offBody + 17, offBody + 500, PacketSize - 1} {
		pkt, _ := NewPacket(rand.Reader, pathOf(nodes), []byte("hello"))
		pkt[pos] ^= 0x10
		r0, err := Unwrap(nodes[0].priv, pkt)
		if err != nil {
			t.Fatalf("pos %d: relay noticed a body flip: %v", pos, err)
		}
		r1, err := Unwrap(nodes[1].priv, r0.Packet)
		if err != nil {
			t.Fatalf("pos %d: %v", pos, err)
		}
		if _, err := Unwrap(nodes[2].priv, r1.Packet); !errors.Is(err, ErrPayloadTagged) {
			t.Fatalf("pos %d: final hop: %v", pos, err)
		}
	}
}

func TestTruncated(t *testing.T) {
	nodes := newNodes(t, 1)
	pkt, _ := NewPacket(rand.Reader, pathOf(nodes), nil)
	for _, n := range []int{0, 1, HeaderSize, PacketSize - 1} {
		if _, err := Unwrap(nodes[0].priv, pkt[:n]); !errors.Is(err, ErrSize) {
			t.Fatalf("%d bytes: %v", n, err)
		}
	}
	if _, err := Unwrap(nodes[0].priv, append(bytes.Clone(pkt), 0)); !errors.Is(err, ErrSize) {
		t.Fatalf("long packet: %v", err)
	}
}

func TestReplayTag(t *testing.T) {
	nodes := newNodes(t, 2)
	p1, _ := NewPacket(rand.Reader, pathOf(nodes), []byte("a"))
	p2, _ := NewPacket(rand.Reader, pathOf(nodes), []byte("a"))
	a, _ := Unwrap(nodes[0].priv, p1)
	b, _ := Unwrap(nodes[0].priv, p1)
	c, _ := Unwrap(nodes[0].priv, p2)
	if a.ReplayTag != b.ReplayTag {
		t.Fatal("same packet, different tags")
	}
	if a.ReplayTag == c.ReplayTag {
		t.Fatal("different packets, same tag")
	}
	d, _ := Unwrap(nodes[1].priv, a.Packet)
	if d.ReplayTag == a.ReplayTag {
		t.Fatal("tag repeats across hops")
	}
	if !bytes.Equal(a.Packet, b.Packet) {
		t.Fatal("unwrap is not deterministic")
	}
}

// TestRelayView checks what a relay can see: its own command, and nothing
// of the later path in its output.
func TestRelayView(t *testing.T) {
	nodes := newNodes(t, 5)
	payload := []byte("a secret payload that must never show in clear")
	pkt, _ := NewPacket(rand.Reader, pathOf(nodes), payload)
	for i := range 4 {
		res, err := Unwrap(nodes[i].priv, pkt)
		if err != nil {
			t.Fatal(err)
		}
		if res.Command.Next != nodes[i+1].hop.ID || res.Command.SURBID != [SURBIDSize]byte{} {
			t.Fatalf("hop %d sees %+v", i, res.Command)
		}
		for j := range nodes {
			if j != i+1 && res.Command.Next == nodes[j].hop.ID {
				t.Fatalf("hop %d learns hop %d", i, j)
			}
			if bytes.Contains(res.Packet, nodes[j].hop.ID[:8]) {
				t.Fatalf("hop %d's output shows hop %d's id", i, j)
			}
		}
		if bytes.Contains(res.Packet, payload[:8]) || bytes.Equal(res.Packet[offBody:offBody+64], pkt[offBody:offBody+64]) {
			t.Fatalf("hop %d: body not re-encrypted", i)
		}
		pkt = res.Packet
	}
}

func TestSURB(t *testing.T) {
	for n := 1; n <= MaxHops; n++ {
		nodes := newNodes(t, n)
		surb, keys, err := NewSURB(rand.Reader, pathOf(nodes))
		if err != nil {
			t.Fatal(err)
		}
		if surb.FirstHop != nodes[0].hop.ID {
			t.Fatal("first hop")
		}
		enc, _ := surb.MarshalBinary()
		surb2, err := ParseSURB(enc)
		if err != nil || *surb2 != *surb {
			t.Fatalf("surb encoding: %v", err)
		}
		kb, _ := keys.MarshalBinary()
		var keys2 SURBKeys
		if err := keys2.UnmarshalBinary(kb); err != nil {
			t.Fatal(err)
		}
		reply := []byte(fmt.Sprintf("reply over %d hops", n))
		pkt, err := PacketFromSURB(surb2, reply)
		if err != nil {
			t.Fatal(err)
		}
		res := walk(t, nodes, pkt)
		if res.Command.Kind != KindDeliverSURB || res.Command.SURBID != keys.ID {
			t.Fatalf("final command %+v, want deliver-surb %x", res.Command, keys.ID)
		}
		got, err := keys2.Open(res.Payload)
		if err != nil || !bytes.Equal(got, reply) {
			t.Fatalf("open: %q, %v", got, err)
		}
		// A tagged reply body is detected.
		pkt, _ = PacketFromSURB(surb, reply)
		pkt[PacketSize-3] ^= 1
		res = walk(t, nodes, pkt)
		if _, err := keys.Open(res.Payload); !errors.Is(err, ErrPayloadTagged) {
			t.Fatalf("tagged reply: %v", err)
		}
	}
}

func TestSURBSingleUse(t *testing.T) {
	nodes := newNodes(t, 2)
	surb, _, _ := NewSURB(rand.Reader, pathOf(nodes))
	p1, _ := PacketFromSURB(surb, []byte("one"))
	p2, _ := PacketFromSURB(surb, []byte("two"))
	a, _ := Unwrap(nodes[0].priv, p1)
	b, _ := Unwrap(nodes[0].priv, p2)
	if a.ReplayTag != b.ReplayTag {
		t.Fatal("second use of a surb is not caught by the replay tag")
	}
}

func TestSURBRejects(t *testing.T) {
	if _, err := ParseSURB(make([]byte, SURBSize-1)); !errors.Is(err, ErrSURB) {
		t.Fatal(err)
	}
	if _, err := ParseSURB(make([]byte, SURBSize)); !errors.Is(err, ErrVersion) {
		t.Fatal(err)
	}
	var k SURBKeys
	for _, b := range [][]byte{nil, {Version}, append([]byte{Version}, make([]byte, 17)...)} {
		if err := k.UnmarshalBinary(b); !errors.Is(err, ErrSURB) {
			t.Fatalf("%x: %v", b, err)
		}
	}
	nodes := newNodes(t, 1)
	_, keys, _ := NewSURB(rand.Reader, pathOf(nodes))
	if _, err := keys.Open(make([]byte, BodySize-1)); !errors.Is(err, ErrSize) {
		t.Fatal(err)
	}
}

func TestCommandRejects(t *testing.T) {
	var b [CommandSize]byte
	for _, k := range []byte{0, 4, 255} {
		b[0] = k
		if _, err := decodeCommand(b[:]); !errors.Is(err, ErrCommand) {
			t.Fatalf("kind %d: %v", k, err)
		}
	}
	c := Command{Kind: KindRelay, Delay: MaxDelay}
	c.encode(b[:])
	if got, err := decodeCommand(b[:]); err != nil || got.Delay != MaxDelay {
		t.Fatalf("max delay: %v", err)
	}
	b[40]++
	if _, err := decodeCommand(b[:]); !errors.Is(err, ErrCommand) {
		t.Fatalf("over max delay: %v", err)
	}
	c = Command{Kind: KindDeliver}
	c.encode(b[:])
	b[CommandSize-1] = 1
	if _, err := decodeCommand(b[:]); !errors.Is(err, ErrCommand) {
		t.Fatalf("reserved bytes: %v", err)
	}
}
