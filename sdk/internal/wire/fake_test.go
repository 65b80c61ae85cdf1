package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// fakeTransport records what it is asked to send. Packets sent to "echo"
// come back through Host.Deliver, in order, from its own goroutine; packets
// to "bad" are refused.
type fakeTransport struct {
	mu         sync.Mutex
	cfg        base.Config
	configured bool
	host       transport.Host
	sent       []transport.Packet
	echoQ      []transport.Packet
	echoCond   *sync.Cond
	stopped    bool
	startErr   error
	gate       chan struct{} // Send to "block" waits for it to close
	blocked    chan struct{} // signalled when such a Send starts waiting
}

func newFake() *fakeTransport {
	f := &fakeTransport{}
	f.echoCond = sync.NewCond(&f.mu)
	return f
}

func (f *fakeTransport) Info(context.Context) (base.Info, error) {
	return base.Info{Name: "fake", Kind: base.KindTransport, Version: "0.1.0", APIVersions: []int{1}, Capabilities: []string{"echo"}}, nil
}

func (f *fakeTransport) Configure(_ context.Context, c base.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg, f.configured = c, true
	switch string(c.Body) {
	case "fail":
		return fmt.Errorf("fake: config: %w", envelope.ErrInvalid)
	case "canceled":
		return fmt.Errorf("fake: config: %w", context.Canceled)
	case "unavailable": // an error from some gRPC client the plugin uses
		return fmt.Errorf("fake: config: %w", status.Error(codes.Unavailable, "upstream daemon down"))
	}
	return nil
}

func (f *fakeTransport) Start(ctx context.Context, h transport.Host) ([]string, error) {
	for i := range 5 {
		h.Event(transport.Event{State: transport.StateStarting, Progress: i * 20, Phase: fmt.Sprintf("step%d", i)})
	}
	if f.startErr != nil {
		h.Event(transport.Event{State: transport.StateFailed, Reason: "bootstrap refused"})
		return nil, f.startErr
	}
	f.mu.Lock()
	f.host, f.stopped = h, false
	f.mu.Unlock()
	h.Event(transport.Event{State: transport.StateReady, Progress: 100, Peers: 3})
	go f.echoLoop(h)
	return []string{"fake:1", "fake:2"}, nil
}

func (f *fakeTransport) echoLoop(h transport.Host) {
	for {
		f.mu.Lock()
		for len(f.echoQ) == 0 && !f.stopped {
			f.echoCond.Wait()
		}
		if f.stopped {
			f.mu.Unlock()
			return
		}
		batch := f.echoQ
		f.echoQ = nil
		f.mu.Unlock()
		if err := h.Deliver(context.Background(), batch); err != nil {
			return
		}
	}
}

func (f *fakeTransport) Send(ctx context.Context, pkts []transport.Packet) error {
	if len(pkts) > 0 && pkts[0].Addr == "block" {
		if f.blocked != nil {
			f.blocked <- struct{}{}
		}
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped || f.host == nil {
		return errors.New("fake: send: not running")
	}
	for _, p := range pkts {
		if p.Addr == "bad" {
			return fmt.Errorf("fake: send: malformed address %q", p.Addr)
		}
	}
	for _, p := range pkts {
		p.Data = append([]byte(nil), p.Data...)
		f.sent = append(f.sent, p)
		if p.Addr == "echo" {
			f.echoQ = append(f.echoQ, p)
		}
	}
	f.echoCond.Broadcast()
	return nil
}

func (f *fakeTransport) Stop(context.Context) error {
	f.mu.Lock()
	h := f.host
	f.stopped = true
	f.host = nil
	f.echoCond.Broadcast()
	f.mu.Unlock()
	if h != nil {
		h.Event(transport.Event{State: transport.StateStopped, Summary: "bye"})
	}
	return nil
}

func (f *fakeTransport) sentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// dialingFake adds the Dialer ability: it dials real loopback TCP.
type dialingFake struct{ *fakeTransport }

func (d dialingFake) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fake: dial: %w", err)
	}
	return c, nil
}

// recHost is a transport.Host that records.
type recHost struct {
	mu      sync.Mutex
	events  []transport.Event
	pkts    []transport.Packet
	got     chan struct{} // signalled on each Deliver
	block   chan struct{} // if non-nil, Deliver waits for it to close
	entered chan struct{} // signalled when a Deliver starts
}

func newRecHost() *recHost {
	return &recHost{got: make(chan struct{}, 1024), entered: make(chan struct{}, 1024)}
}

func (h *recHost) Deliver(ctx context.Context, pkts []transport.Packet) error {
	h.entered <- struct{}{}
	if h.block != nil {
		select {
		case <-h.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h.mu.Lock()
	for _, p := range pkts {
		h.pkts = append(h.pkts, transport.Packet{Addr: p.Addr, Data: append([]byte(nil), p.Data...)})
	}
	h.mu.Unlock()
	select {
	case h.got <- struct{}{}:
	default:
	}
	return nil
}

func (h *recHost) Event(ev transport.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *recHost) snapshot() ([]transport.Event, []transport.Packet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]transport.Event(nil), h.events...), append([]transport.Packet(nil), h.pkts...)
}

// fakeService answers "echo" operations and, for "callback", sends an
// envelope back through its Host before replying.
type fakeService struct {
	mu   sync.Mutex
	host service.Host
}

func (s *fakeService) Info(context.Context) (base.Info, error) {
	return base.Info{Name: "svc", Kind: base.KindService, Version: "1.0.0", APIVersions: []int{1}}, nil
}
func (s *fakeService) Configure(context.Context, base.Config) error { return nil }
func (s *fakeService) Start(_ context.Context, h service.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host = h
	return nil
}
func (s *fakeService) Stop(context.Context) error { return nil }

func (s *fakeService) Handle(ctx context.Context, env *envelope.Envelope) ([]*envelope.Envelope, error) {
	s.mu.Lock()
	h := s.host
	s.mu.Unlock()
	switch env.Operation {
	case "callback":
		cb := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindService, To: "host-side", Operation: "notify", Payload: env.Payload}
		if err := h.Send(ctx, cb); err != nil {
			return nil, fmt.Errorf("svc: callback: %w", err)
		}
	case "broken-reply":
		return []*envelope.Envelope{{ID: "r", Kind: "nonsense", To: "x"}}, nil
	}
	reply := *env
	reply.ID = envelope.NewID()
	reply.To, reply.From = env.From, env.To
	return []*envelope.Envelope{&reply, &reply}, nil
}

// recServiceHost is the host side service.Host of the tests.
type recServiceHost struct {
	mu   sync.Mutex
	envs []*envelope.Envelope
	err  error
}

func (h *recServiceHost) Send(_ context.Context, env *envelope.Envelope) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.envs = append(h.envs, env)
	return h.err
}
