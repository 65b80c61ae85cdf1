package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/onemfive/onemfive/sdk/internal/pb"
	"github.com/onemfive/onemfive/sdk/transport"
)

// dialChunk bounds the data in one Dial frame.
const dialChunk = 32 << 10

// Dial serves transport.Dialer: the first frame names the address, then
// bytes flow both ways until either side ends.
func (s *transportServer) Dial(stream pb.Transport_DialServer) error {
	d, ok := s.impl.(transport.Dialer)
	if !ok {
		return status.Error(codes.Unimplemented, "transport: dial: not supported by this transport")
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	conn, err := d.Dial(stream.Context(), first.GetAddr())
	if err != nil {
		return toStatus(err)
	}
	defer conn.Close()
	if err := stream.Send(&pb.DialFrame{LocalAddr: addrString(conn.LocalAddr()), RemoteAddr: addrString(conn.RemoteAddr())}); err != nil {
		return err
	}
	// Host to conn. When the host finishes writing, half-close if the
	// connection can, so a request/response peer sees the end.
	go func() {
		for {
			f, err := stream.Recv()
			if err != nil {
				if cw, ok := conn.(interface{ CloseWrite() error }); ok && errors.Is(err, io.EOF) {
					_ = cw.CloseWrite()
				} else {
					_ = conn.Close()
				}
				return
			}
			if _, err := conn.Write(f.GetData()); err != nil {
				_ = conn.Close()
				return
			}
		}
	}()
	// Conn to host, until the connection ends.
	buf := make([]byte, dialChunk)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if serr := stream.Send(&pb.DialFrame{Data: buf[:n]}); serr != nil {
				return serr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return toStatus(fmt.Errorf("transport: dial: read: %w", err))
		}
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Dial implements transport.Dialer. ctx bounds the dial only, as with
// net.Dialer. It fails with ErrUnsupported when the plugin's transport has
// no Dialer.
func (c *TransportClient) Dial(ctx context.Context, addr string) (net.Conn, error) {
	const op = "transport: dial"
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := c.rpc.Dial(sctx)
	if err == nil {
		// io.EOF here means the plugin already ended the stream; Recv
		// below reports why.
		if serr := stream.Send(&pb.DialFrame{Addr: addr}); !errors.Is(serr, io.EOF) {
			err = serr
		}
	}
	type reply struct {
		f   *pb.DialFrame
		err error
	}
	ch := make(chan reply, 1)
	if err == nil {
		go func() {
			f, err := stream.Recv()
			ch <- reply{f, err}
		}()
		select {
		case rep := <-ch:
			err = rep.err
			if err == nil {
				return newStreamConn(stream, cancel, rep.f, addr), nil
			}
		case <-ctx.Done():
			cancel()
			return nil, fmt.Errorf("%s: %w", op, ctx.Err())
		}
	}
	cancel()
	return nil, clientErr(ctx, op, err)
}

// streamAddr is the net.Addr of a connection dialled through a plugin.
type streamAddr string

func (a streamAddr) Network() string { return "onemfive" }
func (a streamAddr) String() string  { return string(a) }

// streamConn is a net.Conn over a Dial stream.
type streamConn struct {
	stream pb.Transport_DialClient
	cancel context.CancelFunc
	local  streamAddr
	remote streamAddr

	rmu     sync.Mutex // one reader at a time
	rbuf    []byte
	frames  chan []byte // filled by the receive goroutine
	rerr    error       // set before frames is closed
	rtimer  deadline
	wmu     sync.Mutex
	wtimer  deadline
	closed  chan struct{}
	closeMu sync.Once
}

func newStreamConn(s pb.Transport_DialClient, cancel context.CancelFunc, first *pb.DialFrame, addr string) *streamConn {
	remote := first.GetRemoteAddr()
	if remote == "" {
		remote = addr
	}
	c := &streamConn{
		stream: s, cancel: cancel,
		local: streamAddr(first.GetLocalAddr()), remote: streamAddr(remote),
		frames: make(chan []byte, 16),
		closed: make(chan struct{}),
	}
	c.rtimer.init()
	c.wtimer.init()
	go c.recvLoop()
	return c
}

func (c *streamConn) recvLoop() {
	defer close(c.frames)
	for {
		f, err := c.stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				c.rerr = io.EOF
			} else {
				c.rerr = clientErr(context.Background(), "transport: dial: read", err)
			}
			return
		}
		if len(f.GetData()) == 0 {
			continue
		}
		select {
		case c.frames <- f.GetData():
		case <-c.closed:
			c.rerr = net.ErrClosed
			return
		}
	}
}

func (c *streamConn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.rbuf) == 0 {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return 0, c.rerr
			}
			c.rbuf = f
		case <-c.closed:
			return 0, net.ErrClosed
		case <-c.rtimer.wait():
			return 0, os.ErrDeadlineExceeded
		}
	}
	n := copy(b, c.rbuf)
	c.rbuf = c.rbuf[n:]
	return n, nil
}

func (c *streamConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	case <-c.wtimer.wait():
		return 0, os.ErrDeadlineExceeded
	default:
	}
	n := 0
	for n < len(b) {
		end := min(n+dialChunk, len(b))
		if err := c.stream.Send(&pb.DialFrame{Data: b[n:end]}); err != nil {
			if errors.Is(err, io.EOF) {
				// The far end finished the stream: a normal close.
				return n, fmt.Errorf("transport: dial: write: %w", io.ErrClosedPipe)
			}
			return n, clientErr(context.Background(), "transport: dial: write", err)
		}
		n = end
	}
	return n, nil
}

// Close ends the stream both ways.
func (c *streamConn) Close() error {
	c.closeMu.Do(func() {
		close(c.closed)
		// Cancelling also frees a Write blocked in flow control.
		c.cancel()
	})
	return nil
}

// CloseWrite tells the far end this side is done writing; reads go on.
func (c *streamConn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.stream.CloseSend()
}

func (c *streamConn) LocalAddr() net.Addr  { return c.local }
func (c *streamConn) RemoteAddr() net.Addr { return c.remote }

func (c *streamConn) SetDeadline(t time.Time) error {
	c.rtimer.set(t)
	c.wtimer.set(t)
	return nil
}
func (c *streamConn) SetReadDeadline(t time.Time) error  { c.rtimer.set(t); return nil }
func (c *streamConn) SetWriteDeadline(t time.Time) error { c.wtimer.set(t); return nil }

// deadline is a resettable deadline whose wait channel is closed once it
// passes. A write blocked in flow control is not interrupted by it: the
// check is made before each Write.
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

func (d *deadline) init() { d.ch = make(chan struct{}) }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.timer != nil && !d.timer.Stop():
		// Fired or firing: the old channel is, or is about to be, closed.
		d.ch = make(chan struct{})
	case d.timer == nil:
		select {
		case <-d.ch:
			d.ch = make(chan struct{})
		default:
		}
	}
	d.timer = nil
	if t.IsZero() {
		return
	}
	ch := d.ch
	if dur := time.Until(t); dur <= 0 {
		close(ch)
	} else {
		d.timer = time.AfterFunc(dur, func() { close(ch) })
	}
}

func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}
