package node

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Record is a signed peer record: who a node is and where it can be reached.
type Record struct {
	ID         ID
	SigningKey ed25519.PublicKey
	BoxKey     *ecdh.PublicKey
	Issued     time.Time
	// Addresses maps a network (a transport plugin name such as "direct")
	// to the transport addresses the node listens on there.
	Addresses map[string][]string
	// Mix holds the node's signed mix-key records (host/mixkey), opaque
	// here: whoever builds onion paths verifies them against ID.
	Mix [][]byte
}

// Record encoding (version 1), big endian:
//
//	"OM5R" | version=1 | ed25519 pub (32) | x25519 pub (32) | issued unix ms (8)
//	| nets (1) { name len (1) | name | addrs (1) { len (2) | addr } }
//	[ | mix (1) { len (2) | mix-key record } ]
//	| ed25519 signature (64) over everything before it
//
// The mix section is present only when the node publishes mix keys.
const (
	recordMagic   = "OM5R"
	recordVersion = 1
	// MaxRecordSize bounds an encoded record.
	MaxRecordSize = 4096
	maxNets       = 16
	maxAddrs      = 16
	maxAddrLen    = 512
	maxMix        = 4
	maxMixLen     = 512
)

// ErrBadRecord is wrapped by every record decoding error.
var ErrBadRecord = errors.New("node: bad peer record")

// NewRecord makes and signs this node's record, with its signed mix-key
// records when it publishes any.
func (k *Identity) NewRecord(addrs map[string][]string, issued time.Time, mix ...[]byte) ([]byte, error) {
	r := Record{ID: k.id, SigningKey: k.SigningKey(), BoxKey: k.box.PublicKey(), Issued: issued, Addresses: addrs, Mix: mix}
	body, err := r.encodeBody()
	if err != nil {
		return nil, err
	}
	return append(body, k.Sign(body)...), nil
}

func (r *Record) encodeBody() ([]byte, error) {
	nets := make([]string, 0, len(r.Addresses))
	for n := range r.Addresses {
		nets = append(nets, n)
	}
	slices.Sort(nets)
	if len(nets) > maxNets {
		return nil, fmt.Errorf("node: record: %d networks, limit %d", len(nets), maxNets)
	}
	b := []byte(recordMagic)
	b = append(b, recordVersion)
	b = append(b, r.SigningKey...)
	b = append(b, r.BoxKey.Bytes()...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Issued.UnixMilli()))
	b = append(b, byte(len(nets)))
	for _, n := range nets {
		if n == "" || len(n) > 64 {
			return nil, fmt.Errorf("node: record: bad network name %q", n)
		}
		as := r.Addresses[n]
		if len(as) > maxAddrs {
			return nil, fmt.Errorf("node: record: network %s has %d addresses, limit %d", n, len(as), maxAddrs)
		}
		b = append(b, byte(len(n)))
		b = append(b, n...)
		b = append(b, byte(len(as)))
		for _, a := range as {
			if a == "" || len(a) > maxAddrLen {
				return nil, fmt.Errorf("node: record: network %s: bad address length %d", n, len(a))
			}
			b = binary.BigEndian.AppendUint16(b, uint16(len(a)))
			b = append(b, a...)
		}
	}
	if len(r.Mix) > maxMix {
		return nil, fmt.Errorf("node: record: %d mix-key records, limit %d", len(r.Mix), maxMix)
	}
	if len(r.Mix) > 0 {
		b = append(b, byte(len(r.Mix)))
		for _, m := range r.Mix {
			if len(m) == 0 || len(m) > maxMixLen {
				return nil, fmt.Errorf("node: record: mix-key record of %d bytes", len(m))
			}
			b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
			b = append(b, m...)
		}
	}
	if len(b)+ed25519.SignatureSize > MaxRecordSize {
		return nil, fmt.Errorf("node: record: %d bytes, limit %d", len(b)+ed25519.SignatureSize, MaxRecordSize)
	}
	return b, nil
}

// DecodeRecord parses and verifies a record.
func DecodeRecord(b []byte) (*Record, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRecord, fmt.Sprintf(format, a...))
	}
	if len(b) > MaxRecordSize {
		return nil, bad("%d bytes, limit %d", len(b), MaxRecordSize)
	}
	const fixed = 4 + 1 + 32 + 32 + 8 + 1
	if len(b) < fixed+ed25519.SignatureSize {
		return nil, bad("truncated (%d bytes)", len(b))
	}
	if string(b[:4]) != recordMagic {
		return nil, bad("wrong magic")
	}
	if b[4] != recordVersion {
		return nil, bad("unsupported version %d", b[4])
	}
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	spub := ed25519.PublicKey(slices.Clone(b[5:37]))
	if !ed25519.Verify(spub, body, sig) {
		return nil, bad("signature does not verify")
	}
	bpub, err := ecdh.X25519().NewPublicKey(b[37:69])
	if err != nil {
		return nil, bad("x25519 key: %v", err)
	}
	r := &Record{
		ID:         IDFromKey(spub),
		SigningKey: spub,
		BoxKey:     bpub,
		Issued:     time.UnixMilli(int64(binary.BigEndian.Uint64(b[69:77]))).UTC(),
		Addresses:  map[string][]string{},
	}
	p := body[77:]
	nets := int(p[0])
	p = p[1:]
	if nets > maxNets {
		return nil, bad("%d networks, limit %d", nets, maxNets)
	}
	for i := 0; i < nets; i++ {
		if len(p) < 1 || len(p) < 1+int(p[0])+1 {
			return nil, bad("network %d truncated", i)
		}
		name := string(p[1 : 1+int(p[0])])
		p = p[1+int(p[0]):]
		if name == "" {
			return nil, bad("network %d has an empty name", i)
		}
		if _, dup := r.Addresses[name]; dup {
			return nil, bad("network %q listed twice", name)
		}
		n := int(p[0])
		p = p[1:]
		if n > maxAddrs {
			return nil, bad("network %q has %d addresses, limit %d", name, n, maxAddrs)
		}
		addrs := make([]string, 0, n)
		for j := 0; j < n; j++ {
			if len(p) < 2 {
				return nil, bad("network %q address %d truncated", name, j)
			}
			l := int(binary.BigEndian.Uint16(p))
			if l == 0 || l > maxAddrLen || len(p) < 2+l {
				return nil, bad("network %q address %d has bad length %d", name, j, l)
			}
			addrs = append(addrs, string(p[2:2+l]))
			p = p[2+l:]
		}
		r.Addresses[name] = addrs
	}
	if len(p) > 0 {
		n := int(p[0])
		p = p[1:]
		if n == 0 || n > maxMix {
			return nil, bad("%d mix-key records, want 1..%d", n, maxMix)
		}
		for j := 0; j < n; j++ {
			if len(p) < 2 {
				return nil, bad("mix-key record %d truncated", j)
			}
			l := int(binary.BigEndian.Uint16(p))
			if l == 0 || l > maxMixLen || len(p) < 2+l {
				return nil, bad("mix-key record %d has bad length %d", j, l)
			}
			r.Mix = append(r.Mix, slices.Clone(p[2:2+l]))
			p = p[2+l:]
		}
	}
	if len(p) != 0 {
		return nil, bad("%d trailing bytes", len(p))
	}
	return r, nil
}

// EncodeText is the shareable text form of an encoded record.
func EncodeText(rec []byte) string { return "om5r1:" + base64.RawURLEncoding.EncodeToString(rec) }

// DecodeText parses the text form (EncodeText) and verifies the record.
func DecodeText(s string) (*Record, []byte, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "om5r1:")
	if !ok {
		return nil, nil, fmt.Errorf("%w: text form must start with the prefix om5r1", ErrBadRecord)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: base64: %v", ErrBadRecord, err)
	}
	r, err := DecodeRecord(b)
	if err != nil {
		return nil, nil, err
	}
	return r, b, nil
}
