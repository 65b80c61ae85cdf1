package lan

import (
	"sync"
	"time"

	"github.com/onemfive/onemfive/host/node"
)

// Filter bounds: past them new sources or peers are refused until old ones
// expire, so a flood of forged sources cannot grow memory.
const (
	maxSources = 4096
	maxPeers   = 1024
)

// verdict is what the filter makes of a verified announcement.
type verdict int

const (
	// fresh: a record newer than any heard from this node (or its first):
	// reported to the host.
	fresh verdict = iota
	// alive: the record already reported, repeated with a higher seq: the
	// peer is still there; nothing for the host.
	alive
	// replay: not newer than what was heard (an old record, or a seq seen
	// already, such as the broadcast copy of a multicast frame): dropped.
	replay
	// full: too many peers tracked: dropped.
	full
)

// peerState is the newest announcement heard from one node.
type peerState struct {
	issued time.Time
	seq    uint64
	last   time.Time // when it was last heard (fresh or alive)
	addr   string
}

// bucket is a token bucket for one source address.
type bucket struct {
	tokens float64
	at     time.Time
}

// filter drops announcements that come too fast from one source or are not
// newer than what was heard, and tracks which peers are currently heard.
// Pure: the caller passes the time. Safe for concurrent use.
type filter struct {
	rate  float64 // tokens per second per source
	burst float64

	mu      sync.Mutex
	sources map[string]*bucket
	peers   map[node.ID]*peerState
}

func newFilter(rate float64, burst int) *filter {
	return &filter{rate: rate, burst: float64(burst), sources: map[string]*bucket{}, peers: map[node.ID]*peerState{}}
}

// allow spends one token of src's bucket. It runs before any signature
// check, so a flood costs little.
func (f *filter) allow(src string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.sources[src]
	if b == nil {
		if len(f.sources) >= maxSources {
			f.pruneSourcesLocked(now)
			if len(f.sources) >= maxSources {
				return false
			}
		}
		b = &bucket{tokens: f.burst, at: now}
		f.sources[src] = b
	}
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = min(f.burst, b.tokens+dt*f.rate)
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// pruneSourcesLocked forgets sources whose buckets have refilled: they
// would start full again anyway.
func (f *filter) pruneSourcesLocked(now time.Time) {
	for k, b := range f.sources {
		if b.tokens+now.Sub(b.at).Seconds()*f.rate >= f.burst {
			delete(f.sources, k)
		}
	}
}

// admit classifies a verified announcement and records it.
func (f *filter) admit(h heard, now time.Time) verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.peers[h.rec.ID]
	switch {
	case p == nil:
		if len(f.peers) >= maxPeers {
			return full
		}
		f.peers[h.rec.ID] = &peerState{issued: h.rec.Issued, seq: h.seq, last: now, addr: h.addr}
		return fresh
	case h.rec.Issued.After(p.issued):
		p.issued, p.seq, p.last, p.addr = h.rec.Issued, h.seq, now, h.addr
		return fresh
	case h.rec.Issued.Equal(p.issued) && h.seq > p.seq:
		p.seq, p.last = h.seq, now
		return alive
	}
	return replay
}

// sweep forgets peers not heard since before now-ttl and returns them. A
// forgotten peer's next announcement counts as fresh again, so the host
// hears about it when it comes back.
func (f *filter) sweep(now time.Time, ttl time.Duration) map[node.ID]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lost map[node.ID]string
	for id, p := range f.peers {
		if now.Sub(p.last) > ttl {
			if lost == nil {
				lost = map[node.ID]string{}
			}
			lost[id] = p.addr
			delete(f.peers, id)
		}
	}
	return lost
}

// seen reports how many peers are currently heard.
func (f *filter) seen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.peers)
}
