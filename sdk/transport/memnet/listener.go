package memnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// ErrConnRefused is returned by Dial when nothing listens at the address.
var ErrConnRefused = errors.New("memnet: connection refused")

// Addr is a memnet address as a net.Addr.
type Addr string

// Network implements net.Addr.
func (Addr) Network() string { return "memnet" }

func (a Addr) String() string { return string(a) }

// Listener accepts byte streams dialed on its Network. It implements
// net.Listener.
type Listener struct {
	net   *Network
	addr  string
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

var _ net.Listener = (*Listener)(nil)

// Listen opens a Listener at addr (for example "mem:web").
func (n *Network) Listen(addr string) (*Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = make(map[string]*Listener)
	}
	if _, ok := n.listeners[addr]; ok {
		return nil, fmt.Errorf("memnet: listen %s: %w", addr, ErrAddressInUse)
	}
	l := &Listener{net: n, addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
	n.listeners[addr] = l
	return l, nil
}

// Dial connects to the Listener at addr with an in-memory pipe.
func (n *Network) Dial(ctx context.Context, addr string) (net.Conn, error) {
	n.mu.Lock()
	l := n.listeners[addr]
	n.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("memnet: dial %s: %w", addr, ErrConnRefused)
	}
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, fmt.Errorf("memnet: dial %s: %w", addr, ErrConnRefused)
	case <-ctx.Done():
		return nil, fmt.Errorf("memnet: dial %s: %w", addr, ctx.Err())
	}
}

// Accept waits for the next dialed connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops the listener and frees its address. It is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.net.mu.Lock()
		if l.net.listeners[l.addr] == l {
			delete(l.net.listeners, l.addr)
		}
		l.net.mu.Unlock()
	})
	return nil
}

// Addr reports the listening address.
func (l *Listener) Addr() net.Addr { return Addr(l.addr) }
