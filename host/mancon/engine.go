package mancon

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// Event kinds.
const (
	EventLevel        = "level"         // the effective level changed
	EventReload       = "reload"        // policy files reloaded
	EventReloadFailed = "reload_failed" // an edit was refused; the old policy stays
)

// Event reports a change.
type Event struct {
	Kind     string
	Time     time.Time
	From, To envelope.ManCon // for EventLevel
	Cause    string          // why (EventLevel) or the error (EventReloadFailed)
	Files    []string        // for reloads
}

// Engine is the live ManCon state. Construct with New.
type Engine struct {
	patterns []string
	log      hclog.Logger
	notify   func(Event)
	now      func() time.Time

	mu      sync.Mutex
	pol     *policy.Policy
	files   []string
	mtimes  map[string]time.Time
	base    envelope.ManCon
	ratchet *policy.Ratchet
	nets    map[string]policy.NetState

	// Plans are cached per request and peers until the state they were
	// made from changes: gen counts changes of the policy, the base level
	// and the networks' states; an entry also records the ratchet's level.
	gen   uint64
	seed  maphash.Seed
	plans map[planKey]planEntry
}

// maxPlans bounds the plan cache; it is emptied when full.
const maxPlans = 4096

type planKey struct {
	kind  envelope.Kind
	to    string
	level envelope.ManCon
	peers uint64 // hash of the peers given
}

type planEntry struct {
	gen     uint64
	ratchet envelope.ManCon
	plan    policy.Plan
	err     error
}

// Options configure an Engine.
type Options struct {
	// Files are glob patterns of policy files; none means the built-in
	// default policy.
	Files []string
	// Base is the user's base level (config mancon).
	Base   envelope.ManCon
	Log    hclog.Logger
	Notify func(Event) // may be nil; called without the engine's lock
	Now    func() time.Time
}

// New loads the policy. A policy that does not load is an error: the
// daemon must not start on a policy it cannot read.
func New(o Options) (*Engine, error) {
	e := &Engine{patterns: o.Files, log: o.Log, notify: o.Notify, now: o.Now, base: o.Base, nets: map[string]policy.NetState{},
		seed: maphash.MakeSeed(), plans: map[planKey]planEntry{}}
	if e.log == nil {
		e.log = hclog.NewNullLogger()
	}
	if e.now == nil {
		e.now = time.Now
	}
	pol, files, mtimes, err := e.load()
	if err != nil {
		return nil, err
	}
	e.pol, e.files, e.mtimes = pol, files, mtimes
	e.ratchet = policy.NewRatchet(pol, e.base)
	return e, nil
}

// load reads the policy files (or the default).
func (e *Engine) load() (*policy.Policy, []string, map[string]time.Time, error) {
	if len(e.patterns) == 0 {
		return policy.Default(), nil, nil, nil
	}
	var files []string
	for _, p := range e.patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("mancon: policy pattern %q: %w", p, err)
		}
		if len(m) == 0 {
			return nil, nil, nil, fmt.Errorf("mancon: policy pattern %q matches no file", p)
		}
		files = append(files, m...)
	}
	mtimes := map[string]time.Time{}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("mancon: policy file: %w", err)
		}
		mtimes[f] = st.ModTime()
	}
	pol, err := policy.Load(files...)
	if err != nil {
		return nil, nil, nil, err
	}
	return pol, files, mtimes, nil
}

func (e *Engine) emit(evs []Event) {
	for _, ev := range evs {
		switch ev.Kind {
		case EventLevel:
			e.log.Warn("effective ManCon changed", "from", ev.From, "to", ev.To, "cause", ev.Cause)
		case EventReload:
			e.log.Info("policy reloaded", "files", ev.Files)
		case EventReloadFailed:
			e.log.Error("policy edit refused; the previous policy stays in force", "error", ev.Cause)
		}
		if e.notify != nil {
			e.notify(ev)
		}
	}
}

func levelEvent(c policy.Change) Event {
	return Event{Kind: EventLevel, Time: c.At, From: c.From, To: c.To, Cause: c.Cause}
}

// Reload re-reads the policy files. On error the previous policy stays in
// force and the error (with every position) is returned and reported.
func (e *Engine) Reload() error {
	pol, files, mtimes, err := e.load()
	now := e.now()
	if err != nil {
		e.mu.Lock()
		e.mtimes = mtimesOf(e.patterns, e.mtimes) // do not retry the same broken edit every poll
		e.mu.Unlock()
		e.emit([]Event{{Kind: EventReloadFailed, Time: now, Cause: err.Error(), Files: files}})
		return err
	}
	e.mu.Lock()
	e.gen++
	old := e.ratchet.Level()
	e.pol, e.files, e.mtimes = pol, files, mtimes
	e.ratchet = policy.NewRatchet(pol, e.base)
	var evs []Event
	for n, st := range e.nets {
		if st.Status == policy.Blocked {
			e.ratchet.Block(n, st.Since, st.Why)
		}
	}
	if old > e.ratchet.Level() {
		// Keep the level the node had climbed to: raising the base to it
		// and lowering it again leaves the level up, to decay by success.
		e.ratchet.SetBase(old, now)
		e.ratchet.SetBase(e.base, now)
	}
	if nl := e.ratchet.Level(); nl != old {
		evs = append(evs, Event{Kind: EventLevel, Time: now, From: old, To: nl, Cause: "policy reloaded"})
	}
	e.mu.Unlock()
	e.emit(append([]Event{{Kind: EventReload, Time: now, Files: files}}, evs...))
	return nil
}

// mtimesOf returns the current modification times of the files matching
// patterns, falling back to old where a file cannot be read.
func mtimesOf(patterns []string, old map[string]time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for _, p := range patterns {
		m, _ := filepath.Glob(p)
		for _, f := range m {
			if st, err := os.Stat(f); err == nil {
				out[f] = st.ModTime()
			} else if t, ok := old[f]; ok {
				out[f] = t
			}
		}
	}
	return out
}

// Watch reloads when a policy file changes, appears or disappears,
// checking every interval, until ctx is done. With the built-in policy
// there is nothing to watch.
func (e *Engine) Watch(ctx context.Context, every time.Duration) {
	if len(e.patterns) == 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.mu.Lock()
		known := e.mtimes
		e.mu.Unlock()
		cur := mtimesOf(e.patterns, known)
		if !sameTimes(cur, known) {
			_ = e.Reload() // reported through the event
		}
	}
}

func sameTimes(a, b map[string]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !w.Equal(v) {
			return false
		}
	}
	return true
}

// Network records a network's state as its transport reports it. A block
// feeds the ratchet (which may climb); ready clears the block.
func (e *Engine) Network(name string, st policy.Status, why string) {
	now := e.now()
	var evs []Event
	e.mu.Lock()
	prev, had := e.nets[name]
	if !had || prev.Status != st || prev.Why != why {
		e.nets[name] = policy.NetState{Status: st, Since: now, Why: why}
		e.gen++
	}
	switch st {
	case policy.Blocked:
		if c, ok := e.ratchet.Block(name, now, why); ok {
			evs = append(evs, levelEvent(c))
		}
	default:
		e.ratchet.Ready(name, now)
	}
	e.mu.Unlock()
	e.emit(evs)
}

// Success records a verified end-to-end success over network.
func (e *Engine) Success(network string) {
	e.mu.Lock()
	c, ok := e.ratchet.Success(network, e.now())
	e.mu.Unlock()
	if ok {
		e.emit([]Event{levelEvent(c)})
	}
}

// SetBase changes the user's base level.
func (e *Engine) SetBase(m envelope.ManCon) error {
	if m == envelope.ManConUnset || !m.Valid() {
		return errors.New("mancon: base level must be LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO")
	}
	e.mu.Lock()
	old := e.ratchet.Level()
	e.base = m
	e.gen++
	c, ok := e.ratchet.SetBase(m, e.now())
	e.mu.Unlock()
	if ok {
		e.emit([]Event{levelEvent(c)})
	} else if old != m {
		e.log.Info("base ManCon changed", "base", m, "effective", old)
	}
	return nil
}

// Snapshot is the engine's state for status and explanations.
type Snapshot struct {
	Base, Ratchet, Effective envelope.ManCon
	Blocked                  []string
	Networks                 map[string]policy.NetState
	Files                    []string // empty: built-in policy
}

// Snapshot returns the current state.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	nets := maps.Clone(e.nets)
	implied, _ := e.pol.Implied(func(n string) bool { return nets[n].Status == policy.Blocked })
	eff := max(e.base, e.ratchet.Level(), implied)
	if eff == envelope.ManConUnset {
		eff = e.pol.Default
	}
	return Snapshot{Base: e.base, Ratchet: e.ratchet.Level(), Effective: eff, Blocked: e.ratchet.Blocked(),
		Networks: nets, Files: slices.Clone(e.files)}
}

// InClass reports whether the policy in force puts network in class.
func (e *Engine) InClass(network, class string) bool {
	e.mu.Lock()
	pol := e.pol
	e.mu.Unlock()
	return pol.InClass(network, class)
}

// Plan evaluates req against the live state and the given peers. The
// plan is cached until that state changes, and shared: callers must not
// modify it.
func (e *Engine) Plan(req policy.Request, peers []policy.Peer) (policy.Plan, error) {
	k := planKey{kind: req.Kind, to: req.To, level: req.ManCon, peers: e.hashPeers(peers)}
	e.mu.Lock()
	if c, ok := e.plans[k]; ok && c.gen == e.gen && c.ratchet == e.ratchet.Level() {
		e.mu.Unlock()
		return c.plan, c.err
	}
	gen, ratchet := e.gen, e.ratchet.Level()
	pol, st := e.stateLocked(peers)
	e.mu.Unlock()
	plan, err := policy.Evaluate(pol, req, st)
	e.mu.Lock()
	if gen == e.gen && ratchet == e.ratchet.Level() {
		if len(e.plans) >= maxPlans {
			clear(e.plans)
		}
		e.plans[k] = planEntry{gen: gen, ratchet: ratchet, plan: plan, err: err}
	}
	e.mu.Unlock()
	return plan, err
}

// Evaluate plans req afresh, bypassing the cache (explanations).
func (e *Engine) Evaluate(req policy.Request, peers []policy.Peer) (policy.Plan, error) {
	e.mu.Lock()
	pol, st := e.stateLocked(peers)
	e.mu.Unlock()
	return policy.Evaluate(pol, req, st)
}

// stateLocked is the policy in force and a copy of the state a plan is made
// from; e.mu is held.
func (e *Engine) stateLocked(peers []policy.Peer) (*policy.Policy, policy.State) {
	return e.pol, policy.State{Base: e.base, Escalated: e.ratchet.Level(), Networks: maps.Clone(e.nets), Peers: peers}
}

// hashPeers hashes what a plan reads of peers, without allocating.
func (e *Engine) hashPeers(peers []policy.Peer) uint64 {
	var h maphash.Hash
	h.SetSeed(e.seed)
	for _, p := range peers {
		h.WriteString(p.ID)
		h.WriteByte(0)
		for _, n := range p.Networks {
			h.WriteString(n)
			h.WriteByte(1)
		}
		h.WriteByte(byte(p.ManCon))
		h.WriteByte(2)
	}
	return h.Sum64()
}
