package seal

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Version is the packet format version.
const Version = 1

const (
	hdrLen    = 1 + 32
	staticLen = 32 + chacha20poly1305.Overhead
	// Overhead is what sealing adds around the message, before padding.
	Overhead = hdrLen + staticLen + 4 + chacha20poly1305.Overhead
	// MinPacket and MaxPacket bound the bucket sizes.
	MinPacket = 1 << 10
	MaxPacket = 64 << 10
	// MaxMessage is the largest message that fits in MaxPacket.
	MaxMessage = MaxPacket - Overhead
)

// ErrTooLarge means a message does not fit in the largest packet.
var ErrTooLarge = errors.New("seal: message too large")

// ErrOpen is wrapped by every failure to open a packet.
var ErrOpen = errors.New("seal: cannot open packet")

var zeroNonce [chacha20poly1305.NonceSize]byte

// PacketSize returns the bucket a message of n bytes is sealed into.
func PacketSize(n int) (int, error) {
	if n > MaxMessage {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, MaxMessage)
	}
	size := MinPacket
	for size < n+Overhead {
		size <<= 1
	}
	return size, nil
}

func keys(es, ss, eph, rs []byte) (k1, k2 []byte, err error) {
	salt := append(append([]byte{}, eph...), rs...)
	k1, err = hkdf.Key(sha256.New, es, salt, "onemfive/seal/v1/static", chacha20poly1305.KeySize)
	if err != nil {
		return nil, nil, err
	}
	if ss == nil {
		return k1, nil, nil
	}
	k2, err = hkdf.Key(sha256.New, append(append([]byte{}, es...), ss...), salt, "onemfive/seal/v1/body", chacha20poly1305.KeySize)
	return k1, k2, err
}

// Seal encrypts msg from sender to recipient.
func Seal(sender *ecdh.PrivateKey, recipient *ecdh.PublicKey, msg []byte) ([]byte, error) {
	size, err := PacketSize(len(msg))
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal: ephemeral key: %w", err)
	}
	es, err := eph.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	ss, err := sender.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	k1, k2, err := keys(es, ss, eph.PublicKey().Bytes(), recipient.Bytes())
	if err != nil {
		return nil, fmt.Errorf("seal: kdf: %w", err)
	}
	out := make([]byte, hdrLen, size)
	out[0] = Version
	copy(out[1:], eph.PublicKey().Bytes())
	a1, _ := chacha20poly1305.New(k1)
	out = a1.Seal(out, zeroNonce[:], sender.PublicKey().Bytes(), out[:hdrLen])
	body := make([]byte, size-hdrLen-staticLen-chacha20poly1305.Overhead)
	binary.BigEndian.PutUint32(body, uint32(len(msg)))
	copy(body[4:], msg)
	a2, _ := chacha20poly1305.New(k2)
	out = a2.Seal(out, zeroNonce[:], body, out[:hdrLen])
	return out, nil
}

// Open decrypts a packet sealed to recipient and returns the sender's static
// public key and the message.
func Open(recipient *ecdh.PrivateKey, pkt []byte) (*ecdh.PublicKey, []byte, error) {
	if len(pkt) < MinPacket || len(pkt) > MaxPacket || len(pkt)&(len(pkt)-1) != 0 {
		return nil, nil, fmt.Errorf("%w: size %d is not a bucket size", ErrOpen, len(pkt))
	}
	if pkt[0] != Version {
		return nil, nil, fmt.Errorf("%w: unsupported version %d", ErrOpen, pkt[0])
	}
	ephPub, err := ecdh.X25519().NewPublicKey(pkt[1:hdrLen])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: ephemeral key: %v", ErrOpen, err)
	}
	es, err := recipient.ECDH(ephPub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrOpen, err)
	}
	k1, _, err := keys(es, nil, pkt[1:hdrLen], recipient.PublicKey().Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: kdf: %v", ErrOpen, err)
	}
	a1, _ := chacha20poly1305.New(k1)
	spub, err := a1.Open(nil, zeroNonce[:], pkt[hdrLen:hdrLen+staticLen], pkt[:hdrLen])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: sender key does not authenticate", ErrOpen)
	}
	sender, err := ecdh.X25519().NewPublicKey(spub)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: sender key: %v", ErrOpen, err)
	}
	ss, err := recipient.ECDH(sender)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrOpen, err)
	}
	_, k2, err := keys(es, ss, pkt[1:hdrLen], recipient.PublicKey().Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: kdf: %v", ErrOpen, err)
	}
	a2, _ := chacha20poly1305.New(k2)
	body, err := a2.Open(nil, zeroNonce[:], pkt[hdrLen+staticLen:], pkt[:hdrLen])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: body does not authenticate", ErrOpen)
	}
	n := binary.BigEndian.Uint32(body)
	if uint64(n) > uint64(len(body)-4) {
		return nil, nil, fmt.Errorf("%w: length %d exceeds body", ErrOpen, n)
	}
	return sender, body[4 : 4+n], nil
}
