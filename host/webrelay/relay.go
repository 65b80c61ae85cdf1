package webrelay

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Options shape one stream's frames.
type Options struct {
	Chunk  int // largest data frame, MinChunk..MaxChunk
	Window int // data frames unacknowledged at most, 1..MaxWindow
	// Via are further peers, at most MaxVia, the stream goes through after
	// the peer Dial names: each forwards it to the next, and the last one
	// fetches.
	Via []Hop
}

// Hop is one further peer of a relayed stream: the peer before it picks a
// peer it knows that is reachable over Network and has every network in
// PeerHas, holds the open for a random delay in DelayMin..DelayMax (the
// later frames are not held), and forwards the stream there.
type Hop struct {
	Network            string
	PeerHas            []string
	DelayMin, DelayMax time.Duration
}

// holdFor is how much longer than OpenTimeout an open through via may
// take: the delays its peers may hold it.
func holdFor(via []Hop) time.Duration {
	var d time.Duration
	for _, h := range via {
		d += h.DelayMax
	}
	return d
}

// DefaultOptions suit plain links: 32 frames of 32 KiB in flight.
var DefaultOptions = Options{Chunk: MaxChunk, Window: 32}

// OnionOptions suit onion paths, where the relay answers on reply blocks
// the requester sends ahead (about one per 1.2 KB): 3 KiB frames, which
// seal into the 4 KiB bucket (five onion packets with their own reply
// blocks), 8 in flight.
var OnionOptions = Options{Chunk: 3 << 10, Window: 8}

func (o Options) valid() bool {
	return o.Chunk >= MinChunk && o.Chunk <= MaxChunk && o.Window >= 1 && o.Window <= MaxWindow
}

// maxStreams bounds the streams one Relay keeps.
const maxStreams = 256

// ErrClosed is returned by a stream's Read and Write after Close.
var ErrClosed = errors.New("webrelay: stream closed")

// ErrRefused is wrapped by Dial's error when the peer does not relay web
// requests at all (Config.Serve is off there).
var ErrRefused = errors.New("this node does not relay web requests")

// Config configures a Relay.
type Config struct {
	// Send delivers a frame to peer (a node id). route is what Dial was
	// given on the requester's side, and nil on the relay's side (answers
	// go back as the host routes to the requester). Required.
	Send func(ctx context.Context, peer string, frame []byte, route any) error
	// Dial opens a stream to addr over one of networks for peer (the
	// requester, or the peer before in a chain) and names the network used
	// (relay side); with via set, through those further peers (the last
	// one dials over networks). Required when Serve is set.
	Dial func(ctx context.Context, peer string, networks []string, addr string, via []Hop) (net.Conn, string, error)
	// Serve makes this node fetch for peers that ask.
	Serve bool
	// OpenTimeout bounds how long Dial waits for the relay to connect.
	// Default 60 s.
	OpenTimeout time.Duration
	// IdleTimeout closes streams that carried nothing for this long.
	// Default 5 minutes.
	IdleTimeout time.Duration
	Log         hclog.Logger
}

// Relay is both ends of relayed web streams on one node. Create it with
// New; Handle takes the frames that arrive, Dial opens streams through a
// peer. Its methods are safe for concurrent use.
type Relay struct {
	cfg Config

	mu      sync.Mutex
	streams map[streamKey]*Stream
	closed  bool
	life    context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

type streamKey struct {
	peer string
	id   [16]byte
}

// New returns a relay; Close stops it.
func New(cfg Config) (*Relay, error) {
	switch {
	case cfg.Send == nil:
		return nil, errors.New("webrelay: no Send")
	case cfg.Serve && cfg.Dial == nil:
		return nil, errors.New("webrelay: Serve without Dial")
	}
	if cfg.OpenTimeout <= 0 {
		cfg.OpenTimeout = 60 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	r := &Relay{cfg: cfg, streams: map[streamKey]*Stream{}}
	r.life, r.stop = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.janitor()
	return r, nil
}

// Close ends every stream and stops the relay.
func (r *Relay) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	ss := make([]*Stream, 0, len(r.streams))
	for _, s := range r.streams {
		ss = append(ss, s)
	}
	r.mu.Unlock()
	r.stop()
	for _, s := range ss {
		s.abort(ErrClosed)
	}
	r.wg.Wait()
}

// Streams is how many streams are open.
func (r *Relay) Streams() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.streams)
}

func (r *Relay) janitor() {
	defer r.wg.Done()
	t := time.NewTicker(min(r.cfg.IdleTimeout/4, 30*time.Second))
	defer t.Stop()
	for {
		select {
		case <-r.life.Done():
			return
		case now := <-t.C:
			r.mu.Lock()
			var idle []*Stream
			for _, s := range r.streams {
				if now.Sub(s.lastActive()) > r.cfg.IdleTimeout {
					idle = append(idle, s)
				}
			}
			r.mu.Unlock()
			for _, s := range idle {
				s.fail(fmt.Errorf("idle for %v", r.cfg.IdleTimeout))
			}
		}
	}
}

func (r *Relay) add(s *Stream) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrClosed
	case len(r.streams) >= maxStreams:
		return fmt.Errorf("webrelay: %d streams open, limit %d", len(r.streams), maxStreams)
	}
	r.streams[s.key] = s
	return nil
}

func (r *Relay) remove(s *Stream) {
	r.mu.Lock()
	if r.streams[s.key] == s {
		delete(r.streams, s.key)
	}
	r.mu.Unlock()
}

func (r *Relay) get(k streamKey) *Stream {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.streams[k]
}

// Dial opens a stream to addr (host:port) through peer, which dials it
// over one of networks. route is handed to Config.Send with every frame.
// It returns once the relay connected (or ctx, OpenTimeout or the relay's
// refusal ends it) and names the network the relay used.
func (r *Relay) Dial(ctx context.Context, peer string, networks []string, addr string, opt Options, route any) (*Stream, string, error) {
	if !opt.valid() {
		return nil, "", fmt.Errorf("webrelay: options %+v out of range", opt)
	}
	s := newStream(r, streamKey{peer: peer}, opt, route)
	s.requester = true
	if _, err := rand.Read(s.key.id[:]); err != nil {
		return nil, "", err
	}
	if err := r.add(s); err != nil {
		return nil, "", err
	}
	typ := byte(typeOpen)
	if len(opt.Via) > 0 {
		typ = typeOpenVia
	}
	open, err := frame{typ: typ, stream: s.key.id, networks: networks, target: addr, chunk: opt.Chunk, window: opt.Window, via: opt.Via}.encode()
	if err != nil {
		r.remove(s)
		return nil, "", err
	}
	if err := r.cfg.Send(ctx, peer, open, route); err != nil {
		r.remove(s)
		return nil, "", fmt.Errorf("webrelay: open through %s: %w", short(peer), err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.OpenTimeout+holdFor(opt.Via))
	defer cancel()
	select {
	case n := <-s.accepted:
		return s, n, nil
	case <-s.done:
		return nil, "", fmt.Errorf("webrelay: %s through %s: %w", addr, short(peer), s.err())
	case <-ctx.Done():
		s.fail(ctx.Err())
		return nil, "", fmt.Errorf("webrelay: %s through %s: no answer: %w", addr, short(peer), ctx.Err())
	}
}

// Forward is how a relay's Config.Dial carries an open that names further
// peers: it holds the open for a random delay in via[0]'s range, then
// opens the stream through peer (a peer the caller picked for via[0]),
// naming the rest of via. route is handed to Config.Send with the new
// stream's frames. The network returned names the chain.
func (r *Relay) Forward(ctx context.Context, peer string, networks []string, addr string, via []Hop, route any) (net.Conn, string, error) {
	if len(via) == 0 {
		return nil, "", errors.New("webrelay: forward: no further peer")
	}
	h := via[0]
	if d := h.DelayMin + randDuration(h.DelayMax-h.DelayMin); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, "", fmt.Errorf("webrelay: forward: holding the open: %w", ctx.Err())
		}
	}
	opt := DefaultOptions
	opt.Via = via[1:]
	s, network, err := r.Dial(ctx, peer, networks, addr, opt, route)
	if err != nil {
		return nil, "", err
	}
	return s, fmt.Sprintf("%s via %s (%s)", h.Network, short(peer), network), nil
}

// randDuration is uniform in [0, d].
func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return time.Duration(binary.BigEndian.Uint64(b[:]) % uint64(d+1))
}

// Handle takes a frame that arrived from peer.
func (r *Relay) Handle(ctx context.Context, peer string, b []byte) error {
	f, err := decodeFrame(b)
	if err != nil {
		return err
	}
	k := streamKey{peer: peer, id: f.stream}
	s := r.get(k)
	if f.typ == typeOpen || f.typ == typeOpenVia {
		if s != nil {
			return nil // a retransmitted open
		}
		return r.open(peer, k, f)
	}
	if s == nil {
		return nil // a stream that ended: late or repeated frames
	}
	s.touch()
	switch f.typ {
	case typeAccepted:
		s.mu.Lock()
		first := !s.open
		s.open = true
		s.mu.Unlock()
		if first {
			s.accepted <- f.text // buffered, sent once
		}
	case typeAck:
		s.acked(f.seq)
	case typeData, typeFin:
		s.mu.Lock()
		refused := s.requester && !s.open && f.typ == typeFin
		s.mu.Unlock()
		if refused {
			// The relay gave up before it connected: the open failed.
			why := errors.New(f.text)
			if f.text == ErrRefused.Error() {
				why = ErrRefused
			}
			s.abort(why)
			return nil
		}
		s.receive(f)
	}
	return nil
}

// open serves a peer's open frame: refuse, or dial and splice.
func (r *Relay) open(peer string, k streamKey, f frame) error {
	refuse := func(why string) error {
		fin, err := frame{typ: typeFin, stream: k.id, text: why}.encode()
		if err != nil {
			return err
		}
		return r.cfg.Send(r.life, peer, fin, nil)
	}
	if !r.cfg.Serve {
		return refuse(ErrRefused.Error())
	}
	s := newStream(r, k, Options{Chunk: f.chunk, Window: f.window}, nil)
	if err := r.add(s); err != nil {
		return refuse(err.Error())
	}
	if len(f.via) > 0 {
		r.cfg.Log.Info("forwarding a web stream to a further peer", "for", short(peer), "over", f.via[0].Network, "peer_has", f.via[0].PeerHas, "then", len(f.via)-1)
	} else {
		r.cfg.Log.Info("relaying a web stream", "for", short(peer), "target", f.target, "networks", f.networks)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(r.life, r.cfg.OpenTimeout+holdFor(f.via))
		up, network, err := r.cfg.Dial(ctx, peer, f.networks, f.target, f.via)
		cancel()
		if err != nil {
			s.fail(fmt.Errorf("relay could not reach %s: %w", f.target, err))
			return
		}
		acc, err := frame{typ: typeAccepted, stream: k.id, text: network}.encode()
		if err == nil {
			err = r.cfg.Send(r.life, peer, acc, nil)
		}
		if err != nil {
			up.Close()
			s.fail(err)
			return
		}
		splice(s, up)
	}()
	return nil
}

// splice copies between the relayed stream and the site's connection
// until both directions ended.
func splice(s *Stream, up net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, s.opt.Chunk)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				if _, werr := up.Write(buf[:n]); werr != nil {
					s.fail(werr)
					return
				}
			}
			if err != nil {
				if cw, ok := up.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
				return
			}
		}
	}()
	buf := make([]byte, s.opt.Chunk)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			if _, werr := s.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			s.Close()
			break
		}
	}
	<-done
	up.Close()
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
