package overlay

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/host/lease"
	"github.com/onemfive/onemfive/host/mixkey"
	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
	"github.com/onemfive/onemfive/host/relay"
	"github.com/onemfive/onemfive/host/router"
	"github.com/onemfive/onemfive/host/store"
	"github.com/onemfive/onemfive/sdk/transport"
)

// PacketTag is the first byte of an onion packet on a transport, ahead of
// the onion.PacketSize bytes. Courier packets start with their own version
// byte (1), so the two never mix.
const PacketTag = 0xA0

// IsPacket reports whether a transport packet carries an onion packet.
func IsPacket(b []byte) bool { return len(b) == 1+onion.PacketSize && b[0] == PacketTag }

// Network is how the overlay reaches other nodes: the host's transports.
type Network interface {
	Send(ctx context.Context, network string, pkts []transport.Packet) error
	Ready(network string) bool
}

// Store is the durable state the overlay uses (host/store implements it).
type Store interface {
	PeerStore
	MetaStore
	PutPeer(id string, record []byte) error
}

// Config builds an Overlay. Identity, Store, Replay, Queue, Net and
// Deliver are required.
type Config struct {
	Identity *node.Identity
	Store    Store
	Replay   *store.ReplayCache
	Queue    *store.MixQueue
	Net      Network
	// Deliver hands an end-to-end courier packet that arrived over the
	// overlay to the courier. handle is the address replies go to (Send
	// accepts it).
	Deliver func(ctx context.Context, handle string, sealed []byte) error
	// KeysChanged is called when the published mix keys change: the host
	// re-signs its peer record with MixRecords.
	KeysChanged func()
	// Resolved is called when a lease set for id arrived (the courier can
	// retry what waits for it).
	Resolved func(id node.ID)
	// Suspected is called when a relay was newly found down and is left
	// out of paths from now on: messages sent through it meanwhile are
	// probably lost, and can be retransmitted at once on other paths.
	Suspected func()
	// SelfAddresses returns this node's transport addresses by network
	// (the host's transports). It tells which links this node is on; nil
	// means every relay counts as reachable.
	SelfAddresses func() map[string][]string
	// Schedule is the mix-key epoch schedule (all nodes agree on it).
	Schedule mixkey.Schedule
	// Guards, when set, are the only relays this node uses as the first hop
	// of its paths and the last relay before itself on its reply blocks,
	// like Tor's entry guards: fewer relays ever see this node's address.
	Guards []node.ID
	// AutoGuard, when no Guards are configured, picks one guard
	// automatically and keeps it (guards.go).
	AutoGuard bool
	// Publish makes this node reachable by id through a lease set.
	Publish bool
	// ClientOnly keeps this node off other nodes' paths: its peer record
	// carries no mix keys (MixRecords is empty), so nobody routes through
	// it. It still sends, receives and answers on its own reply blocks.
	ClientOnly bool
	// LeaseLifetime is how long a published lease set is valid (default 10
	// minutes); it is republished at three quarters of it, or sooner when
	// half its reply blocks were used.
	LeaseLifetime time.Duration
	// Gateways and RepliesPerLease shape the lease set (default 3 and 4).
	Gateways, RepliesPerLease int
	// ProbeInterval is how often a loop probe goes out (default 5 s, one
	// 2 KiB packet; a negative value turns probes off).
	ProbeInterval time.Duration
	// Observe, when set, receives one JSON line per packet this node
	// handled and per lease it stored or answered (test mode).
	Observe io.Writer
	Logger  hclog.Logger
	// ReplyKeys, when set, keeps reply-block keys across restarts
	// (replykeys.go); nil keeps them in memory only.
	ReplyKeys ReplyKeyStore
	// Rand defaults to crypto/rand.
	Rand io.Reader
	// Clock defaults to the system clock.
	Clock relay.Clock
}

// Params say how one message travels.
type Params struct {
	// Hops is the number of relays before the path's end (the gateway or
	// the node the message is for), 0..onion.MaxHops-1.
	Hops int
	// DelayMin and DelayMax bound each relay's mixing delay, drawn
	// exponentially with mean (DelayMin+DelayMax)/2 and clipped to the range.
	DelayMin, DelayMax time.Duration
	// Networks are the networks links may use, most preferred first. Empty
	// means every ready network of the relays.
	Networks []string
	// Replies is how many reply blocks a message to a node id carries
	// back here (0: three, enough for an answer and acknowledgements; at
	// most MaxReplies). A peer that answers with a stream (a relayed web
	// request) needs about one per 1.2 KB it sends.
	Replies int
}

// MaxReplies bounds Params.Replies.
const MaxReplies = 48

// Errors callers act on.
var (
	// ErrNoLease: no usable lease set for the destination yet; a lookup
	// has started and Resolved is called when it arrives.
	ErrNoLease = errors.New("overlay: no lease set for the destination yet")
	// ErrNoPath wraps router.ErrNoPath: not enough relays.
	ErrNoPath = router.ErrNoPath
)

const (
	replySURBs  = 3 // reply blocks in a data message sent to a node id
	ackSURBs    = 3 // reply blocks in a message on a reply handle (2 fragments either way with a 1 KiB sealed packet)
	maxAttempts = 4096
	// maxCachedRecords bounds the next-hop record cache.
	maxCachedRecords = 4096
	querySURBs       = 6 // reply blocks in a lease query
	storers          = 3 // nodes a lease set is stored at
	maxStored        = 4096
	lookupWait       = 10 * time.Second
	surbGrace        = 5 * time.Minute
	poolTTL          = 30 * time.Minute
	maxPools         = 4096
	republishMin     = 5 * time.Second
	// activeRefresh is how often a lease set that senders use is replaced.
	activeRefresh = 15 * time.Second
)

// Overlay is the host's onion layer: relay, sender, lease sets.
type Overlay struct {
	cfg   Config
	log   hclog.Logger
	rand  io.Reader
	clock relay.Clock
	ring  mixkey.Ring
	keys  *keyStore
	// replies persists reply-block keys; nil without Config.ReplyKeys.
	replies *replyKeys
	proc    *relay.Processor
	obsMu   sync.Mutex

	mu       sync.Mutex
	surbKeys map[[onion.SURBIDSize]byte]surbEntry
	pools    map[string]*surbPool
	owners   map[node.ID][]string // pool handles bound to a node
	known    map[node.ID]*knownLease
	stored   map[[32]byte]*lease.Stored // lease envelopes this node keeps for others, by storage key
	lookups  map[uint64]lookup
	reasm    *reassembler
	mine     *ownLease
	kick     chan struct{}

	// Background lookups run under life and are waited for by Close.
	life        context.Context
	stop        context.CancelFunc
	bg          sync.WaitGroup
	resolving   map[node.ID]bool       // under mu
	failed      map[node.ID]time.Time  // lookups that found nothing, under mu
	used        map[[32]byte]time.Time // lease reply blocks used, until their set expires; under mu
	attempts    map[[32]byte]attempt   // relays used per sealed packet, under mu
	suspect     map[node.ID]suspicion  // relays that may be down, under mu
	unreachable map[string]node.ID     // addresses a transport could not reach, under mu
	probes      map[uint64]probe       // loops in flight, under mu
	auto        node.ID                // the automatic guard, under mu
	records     *recordCache           // verified peer records
	probeNext   int                    // under mu
	newSuspect  bool                   // a relay became suspect since the last notifySuspected, under mu
}

// attempt remembers the relays a message went through, so that its
// retransmission takes others.
type attempt struct {
	relays  []node.ID
	expires time.Time
}

type surbEntry struct {
	keys    *onion.SURBKeys
	expires time.Time
	lease   bool         // one of this node's lease-set reply blocks
	peer    node.ID      // the node the block was given to, when known
	route   []node.ID    // the relays of the block's route
	fwd     *forwardPath // the message that carried the block, if any
}

type surbPool struct {
	surbs   []*onion.SURB
	expires time.Time
}

type knownLease struct {
	set   *lease.Set
	surbs []*onion.SURB
}

type lookup struct {
	target node.ID
	done   chan leaseMsg
	miss   chan miss
}

// miss is a storer's answer without a usable set.
type miss struct {
	used   bool     // it had one whose blocks this node used up
	closer [][]byte // records of peers closer to the key that it knows
}

type ownLease struct {
	set       *lease.Set
	total     int
	used      int
	refreshAt time.Time
}

// New checks cfg and makes an Overlay; Run starts it.
func New(cfg Config) (*Overlay, error) {
	var missing []string
	for name, ok := range map[string]bool{"Identity": cfg.Identity != nil, "Store": cfg.Store != nil,
		"Replay": cfg.Replay != nil, "Queue": cfg.Queue != nil, "Net": cfg.Net != nil, "Deliver": cfg.Deliver != nil} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("overlay: config: missing %v", missing)
	}
	if cfg.Schedule == (mixkey.Schedule{}) {
		cfg.Schedule = mixkey.DefaultSchedule()
	}
	if cfg.LeaseLifetime <= 0 {
		cfg.LeaseLifetime = 10 * time.Minute
	}
	if cfg.Gateways <= 0 {
		cfg.Gateways = 3
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 5 * time.Second
	}
	if cfg.RepliesPerLease <= 0 {
		cfg.RepliesPerLease = 4
	}
	cfg.Gateways = min(cfg.Gateways, lease.MaxLeases)
	cfg.RepliesPerLease = min(cfg.RepliesPerLease, lease.MaxReplies)
	o := &Overlay{cfg: cfg, log: cfg.Logger, rand: cfg.Rand, clock: cfg.Clock,
		surbKeys: map[[onion.SURBIDSize]byte]surbEntry{}, pools: map[string]*surbPool{},
		owners: map[node.ID][]string{}, known: map[node.ID]*knownLease{}, stored: map[[32]byte]*lease.Stored{},
		lookups: map[uint64]lookup{}, reasm: newReassembler(), kick: make(chan struct{}, 1),
		resolving: map[node.ID]bool{}, failed: map[node.ID]time.Time{}, used: map[[32]byte]time.Time{}, attempts: map[[32]byte]attempt{}, suspect: map[node.ID]suspicion{},
		unreachable: map[string]node.ID{}, probes: map[uint64]probe{},
		records: newRecordCache()}
	o.life, o.stop = context.WithCancel(context.Background())
	if o.log == nil {
		o.log = hclog.NewNullLogger()
	}
	if o.rand == nil {
		o.rand = rand.Reader
	}
	if o.clock == nil {
		o.clock = relay.SystemClock
	}
	o.keys = newKeyStore(cfg.Store, cfg.Identity, o.rand)
	if cfg.ReplyKeys != nil {
		o.replies = newReplyKeys(cfg.ReplyKeys, cfg.Identity, o.rand)
	}
	if err := o.loadGuard(); err != nil {
		return nil, fmt.Errorf("overlay: guard: %w", err)
	}
	now := o.clock.Now()
	if err := o.keys.loadAccepted(&o.ring, cfg.Schedule, now); err != nil {
		return nil, err
	}
	if err := o.rotate(now); err != nil {
		return nil, err
	}
	var obs func(relay.Observation)
	if cfg.Observe != nil {
		obs = o.observeRelay
	}
	p, err := relay.New(relay.Config{Keys: &o.ring, Schedule: cfg.Schedule, Replay: cfg.Replay, Queue: cfg.Queue,
		Forwarder: forwarder{o}, Deliverer: deliverer{o}, Clock: o.clock, Observe: obs, Logger: o.log.Named("relay")})
	if err != nil {
		return nil, fmt.Errorf("overlay: %w", err)
	}
	o.proc = p
	return o, nil
}

// rotate makes sure the current and next epochs have keys (saved before
// use), and forgets keys whose window closed. It reports whether the set
// of published keys changed.
func (o *Overlay) rotate(now time.Time) error {
	made, err := o.ring.Ensure(o.rand, o.cfg.Schedule, now)
	if err != nil {
		return fmt.Errorf("overlay: mix keys: %w", err)
	}
	for _, k := range made {
		if err := o.keys.save(k); err != nil {
			return err
		}
	}
	gone := o.ring.Prune(o.cfg.Schedule, now)
	for _, e := range gone {
		if err := o.keys.remove(e); err != nil {
			o.log.Warn("forget mix key", "epoch", e, "error", err)
		}
	}
	if n, err := o.cfg.Replay.PruneEpochsBefore(o.cfg.Schedule.Epoch(now) - min(1, o.cfg.Schedule.Epoch(now))); err != nil {
		o.log.Warn("prune replay cache", "error", err)
	} else if n > 0 {
		o.log.Debug("replay cache pruned", "tags", n)
	}
	if (len(made) > 0 || len(gone) > 0) && o.cfg.KeysChanged != nil {
		o.cfg.KeysChanged()
	}
	return nil
}

// MixRecords are this node's signed mix-key records for its peer record:
// the current epoch's and the next one's (none for a client-only node).
func (o *Overlay) MixRecords() [][]byte {
	if o.cfg.ClientOnly {
		return nil
	}
	now := o.clock.Now()
	cur := o.cfg.Schedule.Epoch(now)
	var out [][]byte
	for _, e := range []uint64{cur, cur + 1} {
		k, err := o.ring.Get(e)
		if err != nil {
			continue
		}
		rec, err := mixkey.NewRecord(o.cfg.Identity, k, o.cfg.Schedule)
		if err != nil {
			o.log.Error("mix-key record", "epoch", e, "error", err)
			continue
		}
		out = append(out, rec)
	}
	return out
}

// Close stops background lookups and waits for them. Call it after Run
// returned and before the store closes.
func (o *Overlay) Close() {
	o.stop()
	o.bg.Wait()
}

// Stats are the relay's counters.
func (o *Overlay) Stats() relay.Stats { return o.proc.Stats() }

// State reports how many relays are suspected down now and when this
// node's lease set expires (zero when none is published).
func (o *Overlay) State() (suspects int, leaseExpires time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mine != nil {
		leaseExpires = o.mine.set.Expires
	}
	return len(o.suspects(o.clock.Now())), leaseExpires
}

// Run forwards held packets, rotates keys and keeps the lease set fresh
// until ctx ends.
func (o *Overlay) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := o.proc.Run(ctx); err != nil && ctx.Err() == nil {
			o.log.Error("relay queue stopped", "error", err)
		}
	})
	t := time.NewTicker(republishMin)
	defer t.Stop()
	var probeC <-chan time.Time
	var pt *time.Timer
	rng := o.mathRand()
	if o.cfg.ProbeInterval > 0 {
		pt = time.NewTimer(probeDelay(rng, o.cfg.ProbeInterval))
		defer pt.Stop()
		probeC = pt.C
	}
	for {
		now := o.clock.Now()
		if err := o.rotate(now); err != nil {
			o.log.Error("rotate mix keys", "error", err)
		}
		if o.cfg.Publish && o.needsPublish(now) {
			if err := o.publish(ctx); err != nil {
				o.log.Debug("lease set not published yet", "error", err)
			}
		}
		o.sweep(now)
		if o.replies != nil {
			if _, err := o.replies.st.Prune(now); err != nil {
				o.log.Warn("prune stored reply keys", "error", err)
			}
		}
		o.expireProbes(now)
		o.notifySuspected()
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
		case <-o.kick:
		case <-probeC:
			if err := o.sendProbe(ctx); err != nil {
				o.log.Debug("loop probe", "error", err)
			}
			pt.Reset(probeDelay(rng, o.cfg.ProbeInterval))
		}
	}
}

// HandlePacket takes a transport packet for which IsPacket holds. from is
// the transport address it came from.
func (o *Overlay) HandlePacket(ctx context.Context, network, from string, data []byte) error {
	if !IsPacket(data) {
		return fmt.Errorf("%w: not an onion packet (%d bytes)", ErrMalformed, len(data))
	}
	o.heardFrom(from)
	return o.proc.Process(ctx, relay.Incoming{Network: network, From: from, Packet: data[1:]})
}

// forwarder sends relayed packets on.
type forwarder struct{ o *Overlay }

func (f forwarder) Forward(ctx context.Context, next [32]byte, pkt []byte) error {
	return f.o.sendTo(ctx, node.IDFromKey(next[:]), pkt)
}

// sendTo sends an onion packet to the node id over the first network of
// its record that is ready here.
func (o *Overlay) sendTo(ctx context.Context, id node.ID, pkt []byte) error {
	rec, err := o.peerRecord(id)
	if err != nil {
		return fmt.Errorf("overlay: next hop %s: %w", id.Short(), err)
	}
	nets := make([]string, 0, len(rec.Addresses))
	for n := range rec.Addresses {
		nets = append(nets, n)
	}
	slices.Sort(nets)
	for _, n := range nets {
		addrs := rec.Addresses[n]
		if len(addrs) == 0 || !o.cfg.Net.Ready(n) {
			continue
		}
		addr := o.pickAddr(addrs)
		// Only link-scoped networks need this node's own addresses (kept
		// off the path of every other forwarded packet).
		if slices.Contains(linkScoped, n) {
			if mine := o.selfLabels(); mine != nil {
				if addr = addrOnLink(n, addrs, mine); addr == "" {
					continue // not on a link this node is on
				}
			}
		}
		data := make([]byte, 1+len(pkt))
		data[0] = PacketTag
		copy(data[1:], pkt)
		return o.cfg.Net.Send(ctx, n, []transport.Packet{{Addr: addr, Data: data}})
	}
	return fmt.Errorf("overlay: next hop %s: none of its networks %v is ready here", id.Short(), nets)
}

// peerRecord returns id's verified record. Decoded records are cached by
// their bytes, so forwarding a packet costs a store read, not a signature
// check.
func (o *Overlay) peerRecord(id node.ID) (*node.Record, error) {
	raw, err := o.cfg.Store.Peer(string(id))
	if err != nil {
		return nil, err
	}
	e, err := o.records.get(id, raw)
	if err != nil {
		return nil, err
	}
	return e.rec, nil
}

// directory lists the relays usable at now (dir.go).
func (o *Overlay) directory(now time.Time) (map[node.ID]relayInfo, error) {
	return directory(o.cfg.Store, o.records, o.cfg.Identity.ID(), o.cfg.Schedule, now)
}

// selfLabels are the network labels of this node's own addresses on ready
// networks (links.go), or nil when the host did not say.
func (o *Overlay) selfLabels() []string {
	if o.cfg.SelfAddresses == nil {
		return nil
	}
	ready := map[string][]string{}
	for n, as := range o.cfg.SelfAddresses() {
		if o.cfg.Net.Ready(n) {
			ready[n] = as
		}
	}
	return linkLabels(ready)
}

// pickAddr is the first of a node's addresses that no transport reported
// unreachable (a node on two links is often reachable on one only).
func (o *Overlay) pickAddr(addrs []string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, a := range addrs {
		if _, bad := o.unreachable[a]; !bad {
			return a
		}
	}
	return addrs[0]
}

// observeRelay writes a relay observation as a JSON line.
func (o *Overlay) observeRelay(ob relay.Observation) {
	line := map[string]any{"time": ob.Time.UTC().Format(time.RFC3339Nano), "event": "packet", "network": ob.Network,
		"from": ob.From, "kind": ob.Kind.String(), "drop": ob.Drop.String()}
	if ob.Next != ([32]byte{}) {
		line["next"] = string(node.IDFromKey(ob.Next[:]))
		line["delay_ms"] = ob.Delay.Milliseconds()
	}
	o.observe(line)
}

func (o *Overlay) observe(line map[string]any) {
	if o.cfg.Observe == nil {
		return
	}
	if _, ok := line["time"]; !ok {
		line["time"] = o.clock.Now().UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	o.obsMu.Lock()
	defer o.obsMu.Unlock()
	_, _ = o.cfg.Observe.Write(append(b, '\n'))
}

// delay draws one relay's mixing delay.
func (p Params) delay(r *mrand.Rand) time.Duration {
	if p.DelayMax <= 0 {
		return 0
	}
	mean := float64(p.DelayMin+p.DelayMax) / 2
	d := time.Duration(r.ExpFloat64() * mean)
	return min(max(d, p.DelayMin), p.DelayMax)
}

func (o *Overlay) mathRand() *mrand.Rand {
	var seed [16]byte
	_, _ = io.ReadFull(o.rand, seed[:])
	return mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
}

// sweep forgets expired reply keys, pools and stored lease sets.
func (o *Overlay) sweep(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, e := range o.surbKeys {
		if now.After(e.expires) {
			delete(o.surbKeys, id)
		}
	}
	for h, p := range o.pools {
		if now.After(p.expires) || len(p.surbs) == 0 {
			delete(o.pools, h)
		}
	}
	for id, hs := range o.owners {
		hs = slices.DeleteFunc(hs, func(h string) bool { return o.pools[h] == nil })
		if len(hs) == 0 {
			delete(o.owners, id)
		} else {
			o.owners[id] = hs
		}
	}
	for k, st := range o.stored {
		if !now.Before(st.Expires) {
			delete(o.stored, k)
		}
	}
	for id, k := range o.known {
		if k.set.Expired(now) {
			delete(o.known, id)
		}
	}
	for k, a := range o.attempts {
		if now.After(a.expires) {
			delete(o.attempts, k)
		}
	}
	for k, exp := range o.used {
		if now.After(exp) {
			delete(o.used, k)
		}
	}
}

// handlePrefix is the start of pool handles.
const handlePrefix = "surb:"

// IsHandle reports whether an address names a reply pool rather than a node.
func IsHandle(addr string) bool { return strings.HasPrefix(addr, handlePrefix) }

// Bind ties the reply pool named by handle to the node that sent the
// message (known once the courier opened it), so later messages to that
// node can use the pool.
func (o *Overlay) Bind(handle string, id node.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.pools[handle]; ok && !slices.Contains(o.owners[id], handle) {
		o.owners[id] = append(o.owners[id], handle)
	}
}
