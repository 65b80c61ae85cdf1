package overlay

import (
	"bytes"
	"crypto/ecdh"
	"fmt"
	"slices"
	"sync"
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

// recordCache holds peer records decoded and verified once, keyed by node
// id and checked against the stored bytes on every use: a record that
// changed in the store is decoded again, so the cache never serves a
// record the store no longer holds. Mix-key records are verified on first
// use by the directory; their validity window is checked on every use.
// Its methods are safe for concurrent use.
type recordCache struct {
	mu      sync.Mutex
	entries map[node.ID]*cachedRecord
}

// cachedRecord is one verified peer record.
type cachedRecord struct {
	raw []byte
	rec *node.Record
	// Filled on first use by the directory.
	mixDone bool
	mix     []*mixkey.Record // signature verified, signed by rec.ID
	cand    router.Candidate // without a mix key
}

func newRecordCache() *recordCache {
	return &recordCache{entries: map[node.ID]*cachedRecord{}}
}

// get returns the verified record for raw, stored under id.
func (c *recordCache) get(id node.ID, raw []byte) (*cachedRecord, error) {
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e, nil
	}
	rec, err := node.DecodeRecord(raw)
	if err != nil {
		return nil, err
	}
	e = &cachedRecord{raw: raw, rec: rec}
	c.mu.Lock()
	if len(c.entries) >= maxCachedRecords {
		clear(c.entries)
	}
	c.entries[id] = e
	c.mu.Unlock()
	return e, nil
}

// relay completes e for the directory (once): its mix-key records verified
// and its candidate, with subnet groups from the addresses that are not
// link-scoped.
func (c *recordCache) relay(e *cachedRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.mixDone {
		return
	}
	for _, raw := range e.rec.Mix {
		m, err := mixkey.DecodeRecord(raw)
		if err != nil || m.ID != e.rec.ID {
			continue
		}
		e.mix = append(e.mix, m)
	}
	cand := router.FromRecord(e.rec, nil, "")
	cand.Networks = slices.Clip(linkLabels(e.rec.Addresses))
	// Subnet diversity is about who controls a relay's location on the
	// internet; nodes of one local link share a subnet by definition.
	wide := make(map[string][]string, len(e.rec.Addresses))
	for n, as := range e.rec.Addresses {
		if !slices.Contains(linkScoped, n) {
			wide[n] = as
		}
	}
	cand.Groups = slices.Clip(router.SubnetGroups(wide))
	e.cand = cand
	e.mixDone = true
}

// prune drops entries for ids not in keep.
func (c *recordCache) prune(keep map[string][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.entries {
		if _, ok := keep[string(id)]; !ok {
			delete(c.entries, id)
		}
	}
}

// mixKeyAt returns the mix key of the records in mix for the epoch of now,
// or, failing that, any of them valid at now.
func mixKeyAt(mix []*mixkey.Record, sched mixkey.Schedule, now time.Time) (*ecdh.PublicKey, bool) {
	want := sched.Epoch(now)
	var fallback *ecdh.PublicKey
	for _, m := range mix {
		if !m.ValidAt(now) {
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
// mix key valid now and at least one address. self is left out. Records
// and mix-key records are verified once per stored version (cache); only
// the validity windows are checked on each call.
func directory(ps PeerStore, cache *recordCache, self node.ID, sched mixkey.Schedule, now time.Time) (map[node.ID]relayInfo, error) {
	raw, err := ps.Peers()
	if err != nil {
		return nil, fmt.Errorf("overlay: directory: %w", err)
	}
	out := make(map[node.ID]relayInfo, len(raw))
	for id, b := range raw {
		e, err := cache.get(node.ID(id), b)
		if err != nil || e.rec.ID != node.ID(id) || e.rec.ID == self || len(e.rec.Addresses) == 0 {
			continue
		}
		cache.relay(e)
		key, ok := mixKeyAt(e.mix, sched, now)
		if !ok {
			continue
		}
		c := e.cand
		c.MixKey = key
		out[e.rec.ID] = relayInfo{rec: e.rec, cand: c}
	}
	if len(raw) < maxCachedRecords {
		cache.prune(raw)
	}
	return out, nil
}
