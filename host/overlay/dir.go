package overlay

import (
	"crypto/ecdh"
	"fmt"
	"slices"
	"time"

	"github.com/onemfive/onemfive/host/mixkey"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/router"
)

// PeerStore is where peer records live (host/store implements it).
type PeerStore interface {
	Peers() (map[string][]byte, error)
	Peer(id string) ([]byte, error)
}

// relayInfo is what the overlay knows of one relay from its record.
type relayInfo struct {
	rec  *node.Record
	cand router.Candidate
}

// mixKeyAt returns the mix key rec publishes for the epoch of now, or, failing
// that, any of its records valid at now. Records that do not verify against
// rec's id are ignored.
func mixKeyAt(rec *node.Record, sched mixkey.Schedule, now time.Time) (*ecdh.PublicKey, bool) {
	want := sched.Epoch(now)
	var fallback *ecdh.PublicKey
	for _, raw := range rec.Mix {
		m, err := mixkey.Verify(raw, rec.ID, now)
		if err != nil {
			continue
		}
		if m.Epoch == want {
			return m.MixKey, true
		}
		if fallback == nil {
			fallback = m.MixKey
		}
	}
	return fallback, fallback != nil
}

// directory lists the relays usable at now: peers whose record carries a
// mix key valid now and at least one address. self is left out.
func directory(ps PeerStore, self node.ID, sched mixkey.Schedule, now time.Time) (map[node.ID]relayInfo, error) {
	raw, err := ps.Peers()
	if err != nil {
		return nil, fmt.Errorf("overlay: directory: %w", err)
	}
	out := make(map[node.ID]relayInfo, len(raw))
	for _, b := range raw {
		rec, err := node.DecodeRecord(b)
		if err != nil || rec.ID == self || len(rec.Addresses) == 0 {
			continue
		}
		key, ok := mixKeyAt(rec, sched, now)
		if !ok {
			continue
		}
		c := router.FromRecord(rec, key, "")
		c.Networks = linkLabels(rec.Addresses)
		// Subnet diversity is about who controls a relay's location on the
		// internet; nodes of one local link share a subnet by definition.
		wide := make(map[string][]string, len(rec.Addresses))
		for n, as := range rec.Addresses {
			if !slices.Contains(linkScoped, n) {
				wide[n] = as
			}
		}
		c.Groups = router.SubnetGroups(wide)
		out[rec.ID] = relayInfo{rec: rec, cand: c}
	}
	return out, nil
}
