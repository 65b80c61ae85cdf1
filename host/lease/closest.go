package lease

import (
	"bytes"
	"crypto/sha256"
	"slices"

	"github.com/onemfive/onemfive/host/node"
)

// Distance is the Kademlia XOR distance between two node ids: the XOR of the
// SHA-256 of their id strings, compared as a big-endian number. Hashing
// first spreads ids evenly whatever their structure.
func Distance(a, b node.ID) [32]byte {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	for i := range ha {
		ha[i] ^= hb[i]
	}
	return ha
}

// Closest returns up to k of candidates nearest to target, nearest first,
// without duplicates (ties, impossible short of a hash collision, break by
// id). target itself is kept if listed: a node may store its own set.
func Closest(target node.ID, candidates []node.ID, k int) []node.ID {
	if k <= 0 {
		return nil
	}
	type entry struct {
		id node.ID
		d  [32]byte
	}
	es := make([]entry, 0, len(candidates))
	seen := make(map[node.ID]bool, len(candidates))
	for _, c := range candidates {
		if seen[c] {
			continue
		}
		seen[c] = true
		es = append(es, entry{c, Distance(target, c)})
	}
	slices.SortFunc(es, func(x, y entry) int {
		if c := bytes.Compare(x.d[:], y.d[:]); c != 0 {
			return c
		}
		return bytes.Compare([]byte(x.id), []byte(y.id))
	})
	out := make([]node.ID, 0, min(k, len(es)))
	for _, e := range es[:min(k, len(es))] {
		out = append(out, e.id)
	}
	return out
}
