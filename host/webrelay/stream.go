package webrelay

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Stream is one relayed byte stream; it implements net.Conn.
type Stream struct {
	r         *Relay
	key       streamKey
	route     any
	requester bool // this side dialled
	opt       Options

	accepted chan string
	done     chan struct{} // closed when the stream is gone

	mu       sync.Mutex
	wake     chan struct{} // replaced after every change that readers or writers wait for
	next     uint64        // next data/fin seq expected from the peer
	pending  map[uint64]frame
	readable [][]byte
	consumed uint64 // data frames read by the user
	ackedOut uint64 // consumed count last acknowledged to the peer
	finIn    bool   // the peer's fin was reached in order
	finWhy   string
	sendSeq  uint64 // next seq this side sends
	sentData uint64 // data frames sent
	peerAck  uint64 // data frames the peer consumed
	closedW  bool   // this side sent its fin
	open     bool   // requester side: the relay accepted
	failed   error
	active   time.Time
	deadline time.Time // read deadline
}

func newStream(r *Relay, k streamKey, opt Options, route any) *Stream {
	return &Stream{r: r, key: k, opt: opt, route: route, accepted: make(chan string, 1), done: make(chan struct{}),
		wake: make(chan struct{}), pending: map[uint64]frame{}, active: time.Now()}
}

func (s *Stream) lastActive() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

func (s *Stream) touch() {
	s.mu.Lock()
	s.active = time.Now()
	s.mu.Unlock()
}

// signal wakes waiters. Call with mu held.
func (s *Stream) signal() {
	close(s.wake)
	s.wake = make(chan struct{})
}

func (s *Stream) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	return ErrClosed
}

// receive takes a data or fin frame, in any order, once.
func (s *Stream) receive(f frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.seq < s.next || s.failed != nil {
		return // a duplicate, or too late
	}
	if _, dup := s.pending[f.seq]; dup {
		return
	}
	if len(s.pending) >= 2*s.opt.Window+2 {
		s.failLocked(errors.New("too many frames out of order"))
		return
	}
	s.pending[f.seq] = f
	for {
		g, ok := s.pending[s.next]
		if !ok {
			break
		}
		delete(s.pending, s.next)
		s.next++
		if g.typ == typeFin {
			s.finIn, s.finWhy = true, g.text
			break
		}
		s.readable = append(s.readable, g.data)
	}
	s.signal()
	s.maybeDoneLocked()
}

// acked records that the peer consumed n data frames.
func (s *Stream) acked(n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.peerAck && n <= s.sentData {
		s.peerAck = n
		s.signal()
	}
}

// Read implements net.Conn.
func (s *Stream) Read(p []byte) (int, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if len(s.readable) > 0 {
			n := copy(p, s.readable[0])
			if n == len(s.readable[0]) {
				s.readable = s.readable[1:]
				s.consumed++
			} else {
				s.readable[0] = s.readable[0][n:]
			}
			var ack []byte
			// Small windows are acknowledged frame by frame: over onion
			// paths each acknowledgement also brings the relay the reply
			// blocks it answers on.
			if s.consumed-s.ackedOut >= uint64(max(1, s.opt.Window/8)) {
				s.ackedOut = s.consumed
				ack, _ = frame{typ: typeAck, stream: s.key.id, seq: s.consumed}.encode()
			}
			s.active = time.Now()
			s.mu.Unlock()
			if ack != nil {
				s.send(ack)
			}
			return n, nil
		}
		switch {
		case s.finIn:
			why := s.finWhy
			s.mu.Unlock()
			if why != "" {
				return 0, errors.New("webrelay: " + why)
			}
			return 0, io.EOF
		case s.failed != nil:
			err := s.failed
			s.mu.Unlock()
			return 0, err
		}
		wake, dl := s.wake, s.deadline
		s.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			timeout = timer.C
		}
		select {
		case <-wake:
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// Write implements net.Conn: p goes out in data frames, waiting while
// Window frames are unacknowledged.
func (s *Stream) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		s.mu.Lock()
		switch {
		case s.failed != nil:
			err := s.failed
			s.mu.Unlock()
			return written, err
		case s.closedW:
			s.mu.Unlock()
			return written, ErrClosed
		case s.sentData-s.peerAck >= uint64(s.opt.Window):
			wake := s.wake
			s.mu.Unlock()
			<-wake
			continue
		}
		n := min(len(p), s.opt.Chunk)
		f, err := frame{typ: typeData, stream: s.key.id, seq: s.sendSeq, data: p[:n]}.encode()
		if err != nil {
			s.mu.Unlock()
			return written, err
		}
		s.sendSeq++
		s.sentData++
		s.active = time.Now()
		s.mu.Unlock()
		if err := s.send(f); err != nil {
			s.fail(err)
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

func (s *Stream) send(f []byte) error {
	return s.r.cfg.Send(s.r.life, s.key.peer, f, s.route)
}

// Close ends this side's direction with a fin; the stream is gone once the
// peer's fin arrived too.
func (s *Stream) Close() error { return s.closeWith("") }

// CloseWrite is Close: the peer still sends until its own fin.
func (s *Stream) CloseWrite() error { return s.Close() }

func (s *Stream) closeWith(why string) error {
	s.mu.Lock()
	if s.closedW || s.failed != nil {
		s.mu.Unlock()
		return nil
	}
	s.closedW = true
	f, err := frame{typ: typeFin, stream: s.key.id, seq: s.sendSeq, text: why}.encode()
	s.sendSeq++
	s.signal()
	s.maybeDoneLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.send(f)
}

// fail ends the stream at once, telling the peer why.
func (s *Stream) fail(why error) {
	s.mu.Lock()
	sendFin := !s.closedW && s.failed == nil
	seq := s.sendSeq
	s.closedW = true
	s.failLocked(why)
	s.mu.Unlock()
	if sendFin {
		if f, err := (frame{typ: typeFin, stream: s.key.id, seq: seq, text: truncate(why.Error(), maxReason)}).encode(); err == nil {
			_ = s.send(f)
		}
	}
}

// abort ends the stream without telling the peer (the relay is closing).
func (s *Stream) abort(why error) {
	s.mu.Lock()
	s.closedW = true
	s.failLocked(why)
	s.mu.Unlock()
}

func (s *Stream) failLocked(why error) {
	if s.failed == nil {
		s.failed = why
		s.signal()
	}
	s.finishLocked()
}

// maybeDoneLocked removes the stream once both directions ended.
func (s *Stream) maybeDoneLocked() {
	if s.closedW && s.finIn {
		s.finishLocked()
	}
}

func (s *Stream) finishLocked() {
	select {
	case <-s.done:
	default:
		close(s.done)
		go s.r.remove(s)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// LocalAddr implements net.Conn.
func (s *Stream) LocalAddr() net.Addr { return addr("local") }

// RemoteAddr implements net.Conn: the relay peer.
func (s *Stream) RemoteAddr() net.Addr { return addr(s.key.peer) }

// SetDeadline implements net.Conn (reads only; writes are bounded by the
// window).
func (s *Stream) SetDeadline(t time.Time) error { return s.SetReadDeadline(t) }

// SetReadDeadline implements net.Conn.
func (s *Stream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.signal()
	s.mu.Unlock()
	return nil
}

// SetWriteDeadline implements net.Conn; writes are not bounded by it.
func (s *Stream) SetWriteDeadline(time.Time) error { return nil }

type addr string

func (a addr) Network() string { return "onemfive-webrelay" }
func (a addr) String() string  { return string(a) }

var _ net.Conn = (*Stream)(nil)
