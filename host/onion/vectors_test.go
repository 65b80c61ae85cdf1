package onion

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

// detRand is a deterministic byte stream, SHA-256(seed || counter) blocks,
// that logs what it hands out so the vectors can list the exact bytes.
type detRand struct {
	seed string
	ctr  uint32
	buf  []byte
	log  []byte
}

func (r *detRand) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], r.ctr)
		r.ctr++
		h := sha256.Sum256(append([]byte(r.seed), c[:]...))
		r.buf = append(r.buf, h[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.log = append(r.log, p[:n]...)
	return n, nil
}

type vectorHop struct {
	PrivateKey string `json:"private_key"`
	PublicKey  string `json:"public_key"`
	ID         string `json:"id"`
	DelayMS    int64  `json:"delay_ms"`
}

type vectorRun struct {
	Payload    string   `json:"payload"`
	Rand       string   `json:"rand"`
	SURB       string   `json:"surb,omitempty"`
	SURBKeys   string   `json:"surb_keys,omitempty"`
	Packets    []string `json:"packets"`
	ReplayTags []string `json:"replay_tags"`
	Secrets    []string `json:"shared_secrets"`
	KeyMat     []string `json:"key_material"`
	Commands   []string `json:"commands"`
	FinalBody  string   `json:"final_body,omitempty"`
}

type vectors struct {
	Comment    string      `json:"comment"`
	Version    int         `json:"version"`
	PacketSize int         `json:"packet_size"`
	Hops       []vectorHop `json:"hops"`
	Forward    vectorRun   `json:"forward"`
	Reply      vectorRun   `json:"reply"`
}

func vectorNodes(t *testing.T) []testNode {
	nodes := make([]testNode, 3)
	for i := range nodes {
		seed := sha256.Sum256([]byte{'k', 'e', 'y', byte(i)})
		k, err := ecdh.X25519().NewPrivateKey(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		idSeed := sha256.Sum256([]byte{'i', 'd', byte(i)})
		nodes[i] = testNode{priv: k, hop: Hop{Key: k.PublicKey(), Delay: time.Duration(i+1) * 250 * time.Millisecond}}
		copy(nodes[i].hop.ID[:], ed25519.NewKeyFromSeed(idSeed[:]).Public().(ed25519.PublicKey))
	}
	return nodes
}

func commandHex(c Command) string {
	var b [CommandSize]byte
	c.encode(b[:])
	return hex.EncodeToString(b[:])
}

// runVector walks pkt through nodes, recording every hop's input packet,
// tag and command.
func runVector(t *testing.T, nodes []testNode, pkt []byte, run *vectorRun) *Result {
	var res *Result
	for _, n := range nodes {
		run.Packets = append(run.Packets, hex.EncodeToString(pkt))
		alpha, _ := ecdh.X25519().NewPublicKey(pkt[offAlpha:offBeta])
		s, _ := n.priv.ECDH(alpha)
		run.Secrets = append(run.Secrets, hex.EncodeToString(s))
		run.KeyMat = append(run.KeyMat, hex.EncodeToString(kdf(s, labelHop, hopKeyLen)))
		var err error
		if res, err = Unwrap(n.priv, pkt); err != nil {
			t.Fatal(err)
		}
		run.ReplayTags = append(run.ReplayTags, hex.EncodeToString(res.ReplayTag[:]))
		run.Commands = append(run.Commands, commandHex(res.Command))
		pkt = res.Packet
	}
	return res
}

func TestVectors(t *testing.T) {
	nodes := vectorNodes(t)
	v := vectors{
		Comment:    "see SPEC.md section 9; rand lists the bytes the builder read, in order",
		Version:    Version,
		PacketSize: PacketSize,
	}
	for _, n := range nodes {
		v.Hops = append(v.Hops, vectorHop{
			PrivateKey: hex.EncodeToString(n.priv.Bytes()),
			PublicKey:  hex.EncodeToString(n.hop.Key.Bytes()),
			ID:         hex.EncodeToString(n.hop.ID[:]),
			DelayMS:    n.hop.Delay.Milliseconds(),
		})
	}

	payload := []byte("onemfive onion test vector: forward payload")
	r := &detRand{seed: "onemfive/onion/v1 forward"}
	pkt, err := NewPacket(r, pathOf(nodes), payload)
	if err != nil {
		t.Fatal(err)
	}
	v.Forward.Payload = hex.EncodeToString(payload)
	v.Forward.Rand = hex.EncodeToString(r.log)
	res := runVector(t, nodes, pkt, &v.Forward)
	if !bytes.Equal(res.Payload, payload) {
		t.Fatal("forward payload")
	}

	reply := []byte("onemfive onion test vector: reply payload")
	r = &detRand{seed: "onemfive/onion/v1 surb"}
	surb, keys, err := NewSURB(r, pathOf(nodes))
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := surb.MarshalBinary()
	kb, _ := keys.MarshalBinary()
	v.Reply.Payload = hex.EncodeToString(reply)
	v.Reply.Rand = hex.EncodeToString(r.log)
	v.Reply.SURB = hex.EncodeToString(sb)
	v.Reply.SURBKeys = hex.EncodeToString(kb)
	pkt, err = PacketFromSURB(surb, reply)
	if err != nil {
		t.Fatal(err)
	}
	res = runVector(t, nodes, pkt, &v.Reply)
	v.Reply.FinalBody = hex.EncodeToString(res.Payload)
	if got, err := keys.Open(res.Payload); err != nil || !bytes.Equal(got, reply) {
		t.Fatalf("reply: %q %v", got, err)
	}

	got, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "vectors.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s; if the format changed on purpose, bump Version and run with -update", path)
	}
}
