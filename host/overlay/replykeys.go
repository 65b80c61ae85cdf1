package overlay

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
)

// Reply-block keys are kept in memory and, when Config.ReplyKeys is set,
// in the store too, so that a reply arriving on one of this node's reply
// blocks after a restart (a lease-set block a sender still holds, the
// answer to a message sent before the restart) still opens. At rest an
// entry is sealed with XChaCha20-Poly1305 under a key derived from the
// node's X25519 key (as mix keys are), with the block id as associated
// data, so a stored entry cannot be moved to another id.
const replyAtRestLabel = "onemfive/overlay/v1/reply-key-at-rest"

// ReplyKeyStore keeps sealed reply-block keys (host/store.ReplyKeys).
type ReplyKeyStore interface {
	Put(id []byte, expires time.Time, val []byte) error
	Take(id []byte, now time.Time) ([]byte, error)
	Prune(now time.Time) (int, error)
}

// Stored entry, version 1:
//
//	version=1 | flags (1; bit 0: lease block) | peer len (1) | peer id
//	| route count (1) { id len (1) | relay id } | SURB keys
const replyEntryVersion = 1

func encodeReplyEntry(e surbEntry) ([]byte, error) {
	kb, err := e.keys.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := []byte{replyEntryVersion, 0}
	if e.lease {
		b[1] = 1
	}
	if len(e.peer) > 255 || len(e.route) > 255 {
		return nil, fmt.Errorf("overlay: reply entry: peer of %d bytes, %d relays", len(e.peer), len(e.route))
	}
	b = append(b, byte(len(e.peer)))
	b = append(b, e.peer...)
	b = append(b, byte(len(e.route)))
	for _, r := range e.route {
		if len(r) > 255 {
			return nil, fmt.Errorf("overlay: reply entry: relay id of %d bytes", len(r))
		}
		b = append(b, byte(len(r)))
		b = append(b, r...)
	}
	return append(b, kb...), nil
}

func decodeReplyEntry(b []byte) (surbEntry, error) {
	var e surbEntry
	bad := func(what string) error { return fmt.Errorf("%w: stored reply key: %s", ErrMalformed, what) }
	if len(b) < 4 || b[0] != replyEntryVersion {
		return e, bad("version or length")
	}
	e.lease = b[1]&1 != 0
	p := 2
	str := func() (string, bool) {
		if p >= len(b) {
			return "", false
		}
		n := int(b[p])
		p++
		if p+n > len(b) {
			return "", false
		}
		s := string(b[p : p+n])
		p += n
		return s, true
	}
	peer, ok := str()
	if !ok {
		return e, bad("peer")
	}
	e.peer = node.ID(peer)
	if p >= len(b) {
		return e, bad("route count")
	}
	n := int(b[p])
	p++
	for range n {
		r, ok := str()
		if !ok {
			return e, bad("route")
		}
		e.route = append(e.route, node.ID(r))
	}
	e.keys = new(onion.SURBKeys)
	if err := e.keys.UnmarshalBinary(b[p:]); err != nil {
		return e, fmt.Errorf("%w: stored reply key: %w", ErrMalformed, err)
	}
	return e, nil
}

// replyKeys seals and persists reply-block keys.
type replyKeys struct {
	st  ReplyKeyStore
	box atRest
}

func newReplyKeys(st ReplyKeyStore, id *node.Identity, rand io.Reader) *replyKeys {
	return &replyKeys{st: st, box: atRest{id: id, label: replyAtRestLabel, rand: rand}}
}

func (r *replyKeys) save(e surbEntry) error {
	plain, err := encodeReplyEntry(e)
	if err != nil {
		return err
	}
	id := e.keys.ID[:]
	sealed, err := r.box.seal(plain, id)
	if err != nil {
		return fmt.Errorf("overlay: reply key: %w", err)
	}
	if err := r.st.Put(id, e.expires, sealed); err != nil {
		return fmt.Errorf("overlay: save reply key: %w", err)
	}
	return nil
}

// take loads and removes the entry of id.
func (r *replyKeys) take(id [onion.SURBIDSize]byte, now time.Time) (surbEntry, error) {
	sealed, err := r.st.Take(id[:], now)
	if err != nil {
		return surbEntry{}, err
	}
	plain, err := r.box.open(sealed, id[:])
	if err != nil {
		return surbEntry{}, fmt.Errorf("overlay: stored reply key %x does not open with this node's key: %w", id[:4], err)
	}
	e, err := decodeReplyEntry(plain)
	if err != nil {
		return surbEntry{}, err
	}
	if e.keys.ID != id {
		return surbEntry{}, errors.New("overlay: stored reply key is for another block")
	}
	return e, nil
}
