package onion

import (
	"crypto/ecdh"
	"encoding/binary"
	"fmt"
	"io"
)

// streamSize is the header keystream one hop uses: routing info plus one slot.
const streamSize = RoutingSize + SlotSize

// maxKeyTries bounds the (2^-126-likely) retries for an ephemeral key whose
// blinded scalars have no clamped form.
const maxKeyTries = 4

// NewPacket builds a packet that travels path and delivers payload to the
// last hop. The caller sends it to path[0].ID. rand supplies the ephemeral
// key and padding (SPEC.md section 5 gives the order of reads).
func NewPacket(rand io.Reader, path []Hop, payload []byte) ([]byte, error) {
	if len(payload) > PayloadCapacity {
		return nil, fmt.Errorf("%w: %d bytes, capacity %d", ErrPayloadSize, len(payload), PayloadCapacity)
	}
	pkt := make([]byte, PacketSize)
	keys, err := buildHeader(rand, path, &Command{Kind: KindDeliver}, pkt[:HeaderSize])
	if err != nil {
		return nil, err
	}
	body := pkt[offBody:]
	encodeBody(body, payload)
	for i := len(keys) - 1; i >= 0; i-- {
		wideEncrypt(&keys[i].body, body)
	}
	return pkt, nil
}

func encodeBody(body, payload []byte) {
	clear(body)
	binary.BigEndian.PutUint16(body[authSize:], uint16(len(payload)))
	copy(body[authSize+2:], payload)
}

// decodeBody checks the zero prefix, the length and the zero padding.
func decodeBody(body []byte) ([]byte, error) {
	var acc byte
	for _, b := range body[:authSize] {
		acc |= b
	}
	n := int(binary.BigEndian.Uint16(body[authSize:]))
	if acc != 0 || n > PayloadCapacity {
		return nil, ErrPayloadTagged
	}
	for _, b := range body[authSize+2+n:] {
		acc |= b
	}
	if acc != 0 {
		return nil, ErrPayloadTagged
	}
	return body[authSize+2 : authSize+2+n], nil
}

func checkPath(path []Hop) error {
	if len(path) == 0 || len(path) > MaxHops {
		return fmt.Errorf("%w: %d hops, want 1 to %d", ErrPath, len(path), MaxHops)
	}
	for i, h := range path {
		if h.Key == nil || h.Key.Curve() != ecdh.X25519() {
			return fmt.Errorf("%w: hop %d has no X25519 mix key", ErrPath, i)
		}
		if i < len(path)-1 && (h.Delay < 0 || h.Delay > MaxDelay) {
			return fmt.Errorf("%w: hop %d delay %v out of range", ErrPath, i, h.Delay)
		}
	}
	return nil
}

// buildHeader writes a header for path ending in final into hdr and returns
// every hop's keys.
func buildHeader(rand io.Reader, path []Hop, final *Command, hdr []byte) ([]*hopKeys, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	var alpha []byte
	var keys []*hopKeys
	for try := 0; ; try++ {
		if try == maxKeyTries {
			return nil, fmt.Errorf("%w: no usable ephemeral key", ErrKey)
		}
		var ok bool
		var err error
		alpha, keys, ok, err = secrets(rand, path)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
	}
	n := len(path)
	streams := make([][]byte, n)
	for i, k := range keys {
		streams[i] = make([]byte, streamSize)
		headerStream(&k.header, streams[i])
	}

	// The filler: what hops 0..n-2 append to the routing info, as hop n-1
	// will see it.
	filler := make([]byte, 0, (n-1)*SlotSize)
	for i := 1; i < n; i++ {
		filler = append(filler, make([]byte, SlotSize)...)
		xorInto(filler, streams[i-1][RoutingSize-(i-1)*SlotSize:])
	}

	beta := make([]byte, RoutingSize)
	head := beta[:RoutingSize-(n-1)*SlotSize]
	final.encode(head)
	if _, err := io.ReadFull(rand, head[SlotSize:]); err != nil {
		return nil, fmt.Errorf("onion: random padding: %w", err)
	}
	xorInto(head, streams[n-1])
	copy(beta[len(head):], filler)
	gamma := headerMAC(&keys[n-1].mac, beta)

	next := make([]byte, RoutingSize)
	for i := n - 2; i >= 0; i-- {
		cmd := Command{Kind: KindRelay, Next: path[i+1].ID, Delay: path[i].Delay}
		cmd.encode(next)
		copy(next[CommandSize:SlotSize], gamma[:])
		copy(next[SlotSize:], beta[:RoutingSize-SlotSize])
		xorInto(next, streams[i])
		beta, next = next, beta
		gamma = headerMAC(&keys[i].mac, beta)
	}
	hdr[0] = Version
	copy(hdr[offAlpha:], alpha)
	copy(hdr[offBeta:], beta)
	copy(hdr[offGamma:], gamma[:])
	return keys, nil
}

// secrets draws an ephemeral key and computes every hop's shared secret:
// s_i = X25519(k_i, Y_i) where k_i is the clamped form of
// x * b_0 * ... * b_{i-1} mod l (see clampedScalar). ok is false if some k_i
// has no clamped form.
func secrets(rand io.Reader, path []Hop) (alpha []byte, keys []*hopKeys, ok bool, err error) {
	var x [32]byte
	if _, err := io.ReadFull(rand, x[:]); err != nil {
		return nil, nil, false, fmt.Errorf("onion: ephemeral key: %w", err)
	}
	eph, err := ecdh.X25519().NewPrivateKey(x[:])
	if err != nil {
		return nil, nil, false, fmt.Errorf("onion: ephemeral key: %w", err)
	}
	c := clampScalar(x[:])
	keys = make([]*hopKeys, len(path))
	for i, h := range path {
		var s []byte
		if i == 0 {
			s, err = eph.ECDH(h.Key)
		} else {
			k, good := clampedScalar(c)
			if !good {
				return nil, nil, false, nil
			}
			var u [32]byte
			copy(u[:], h.Key.Bytes())
			var out [32]byte
			out, err = x25519(&k, &u)
			s = out[:]
		}
		if err != nil {
			return nil, nil, false, fmt.Errorf("%w: hop %d: %v", ErrKey, i, err)
		}
		keys[i] = deriveHop(s)
		c.Multiply(c, clampScalar(keys[i].blind[:]))
	}
	return eph.PublicKey().Bytes(), keys, true, nil
}

func xorInto(dst, src []byte) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}

// Unwrap processes a packet at one hop: key agreement with the hop's mix
// key, header MAC check, decryption of its routing command and of the body
// by one layer. A relay gets the next packet (same size, re-blinded group
// element); a final hop gets the payload. It keeps no state: the caller
// checks Result.ReplayTag against its replay cache.
func Unwrap(priv *ecdh.PrivateKey, pkt []byte) (*Result, error) {
	if len(pkt) != PacketSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrSize, len(pkt), PacketSize)
	}
	if pkt[0] != Version {
		return nil, fmt.Errorf("%w: %d", ErrVersion, pkt[0])
	}
	alphaPub, err := ecdh.X25519().NewPublicKey(pkt[offAlpha:offBeta])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	s, err := priv.ECDH(alphaPub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	keys := deriveHop(s)
	beta := pkt[offBeta:offGamma]
	want := headerMAC(&keys.mac, beta)
	if !macEqual(want[:], pkt[offGamma:offBody]) {
		return nil, ErrMAC
	}
	var routing [streamSize]byte
	copy(routing[:], beta)
	headerStream(&keys.header, routing[:])
	cmd, err := decodeCommand(routing[:CommandSize])
	if err != nil {
		return nil, err
	}
	res := &Result{Command: cmd, ReplayTag: keys.replay}
	if cmd.Kind != KindRelay {
		body := make([]byte, BodySize)
		copy(body, pkt[offBody:])
		wideDecrypt(&keys.body, body)
		if cmd.Kind == KindDeliver {
			if res.Payload, err = decodeBody(body); err != nil {
				return nil, err
			}
		} else {
			res.Payload = body
		}
		return res, nil
	}
	var alpha [32]byte
	copy(alpha[:], pkt[offAlpha:offBeta])
	next, err := x25519(&keys.blind, &alpha)
	if err != nil {
		return nil, fmt.Errorf("%w: blinding: %v", ErrKey, err)
	}
	out := make([]byte, PacketSize)
	out[0] = Version
	copy(out[offAlpha:], next[:])
	copy(out[offBeta:], routing[SlotSize:])
	copy(out[offGamma:], routing[CommandSize:SlotSize])
	copy(out[offBody:], pkt[offBody:])
	wideDecrypt(&keys.body, out[offBody:])
	res.Packet = out
	return res, nil
}
