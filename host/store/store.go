package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/go-hclog"
)

// ErrNotFound is wrapped by errors for a missing peer, meta key or outbox
// record.
var ErrNotFound = errors.New("store: not found")

// Key prefixes; see doc.go.
var (
	prefixMeta   = []byte("m/")
	prefixPeer   = []byte("p/")
	prefixOut    = []byte("o/")
	prefixDue    = []byte("d/")
	prefixExpiry = []byte("x/")
	prefixSeen   = []byte("s/")
	prefixSeenAt = []byte("r/")
	prefixInbox  = []byte("i/")
	keyInboxSeq  = []byte("c/inbox-seq")
)

// Store is the host's durable state. Open it with Open; it is safe for
// concurrent use.
type Store struct {
	db  *pebble.DB
	log hclog.Logger

	outMu  sync.Mutex // serialises outbox read-modify-write
	outLen int        // number of o/ records; guarded by outMu

	inMu       sync.Mutex // guards the receive pipeline below
	nextSeq    uint64     // last seq assigned (committed or in flight)
	pending    map[string]pendingRecv
	cur        *recvGroup    // receipts waiting for the next commit
	committing bool          // a group commit is in flight
	lastSeq    atomic.Uint64 // last seq committed

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the store in dir. A nil logger discards
// Pebble's messages.
func Open(dir string, logger hclog.Logger) (*Store, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	log := logger.Named("store")
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{log}})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{db: db, log: log, pending: make(map[string]pendingRecv)}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// load restores the in-memory counters from disk.
func (s *Store) load() error {
	seq, err := s.readSeqCounter()
	if err != nil {
		return err
	}
	// The counter and the log are written in the same batch; the log's last
	// key is a cross-check against a counter lost to corruption.
	it, err := s.db.NewIter(prefixIter(prefixInbox))
	if err != nil {
		return fmt.Errorf("store: open: inbox: %w", err)
	}
	if it.Last() {
		k := it.Key()
		if len(k) != len(prefixInbox)+8 {
			_ = it.Close()
			return fmt.Errorf("store: open: inbox key %q: %w", k, errCorrupt)
		}
		seq = max(seq, binary.BigEndian.Uint64(k[len(prefixInbox):]))
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("store: open: inbox: %w", err)
	}
	s.lastSeq.Store(seq)
	s.nextSeq = seq

	n, err := s.count(prefixOut)
	if err != nil {
		return fmt.Errorf("store: open: outbox: %w", err)
	}
	s.outLen = n
	return nil
}

func (s *Store) readSeqCounter() (uint64, error) {
	v, closer, err := s.db.Get(keyInboxSeq)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: open: read %s: %w", keyInboxSeq, err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("store: open: key %q: %w: length %d", keyInboxSeq, errCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func (s *Store) count(prefix []byte) (int, error) {
	it, err := s.db.NewIter(prefixIter(prefix))
	if err != nil {
		return 0, err
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n, errors.Join(it.Error(), it.Close())
}

// Close flushes nothing extra (every write was synced) and closes the
// database. It is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}

// get returns a copy of the value at key, or an error wrapping ErrNotFound.
func (s *Store) get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out, closer.Close()
}

// putSync writes one key in a synced batch.
func (s *Store) putSync(key, val []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(key, val, nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

func key(prefix []byte, parts ...[]byte) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func seqKey(seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return key(prefixInbox, b[:])
}

// prefixIter bounds an iterator to the keys starting with prefix (which must
// not end in 0xff, true of all prefixes here).
func prefixIter(prefix []byte) *pebble.IterOptions {
	upper := bytes.Clone(prefix)
	upper[len(upper)-1]++
	return &pebble.IterOptions{LowerBound: prefix, UpperBound: upper}
}

// pebbleLogger routes Pebble's messages to hclog. Fatalf is logged at error
// level and then panics, as Pebble expects Fatalf not to return.
type pebbleLogger struct{ l hclog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error("pebble fatal: " + msg)
	panic("store: pebble fatal: " + msg)
}
