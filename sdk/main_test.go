package sdk

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
	"github.com/onemfive/onemfive/sdk/internal/wire"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// The test binary doubles as a plugin: with testPluginEnv set it serves a
// sink transport through ServeTransport, exactly as a plugin's main does.
const (
	testPluginEnv  = "ONEMFIVE_SDK_TEST_PLUGIN"
	testMarkDirEnv = "ONEMFIVE_SDK_TEST_DIR"
)

func TestMain(m *testing.M) {
	switch os.Getenv(testPluginEnv) {
	case "transport":
		ServeTransport(&sink{markDir: os.Getenv(testMarkDirEnv)})
		os.Exit(0)
	case "service":
		ServeService(&echoService{})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sink is a trivial transport: it counts what it is sent, and echoes
// packets addressed to "echo" back to the host.
type sink struct {
	markDir string
	n       atomic.Int64
	mu      sync.Mutex
	host    transport.Host
	log     hclog.Logger
}

func (s *sink) Info(context.Context) (base.Info, error) {
	return base.Info{Name: "sink", Kind: base.KindTransport, Version: "0.0.1", APIVersions: []int{APIVersion}}, nil
}

func (s *sink) Configure(context.Context, base.Config) error { return nil }

func (s *sink) Start(_ context.Context, h transport.Host) ([]string, error) {
	s.mu.Lock()
	s.host = h
	s.mu.Unlock()
	s.log = NewLogger("sink")
	s.log.Info("transport started", "pid", os.Getpid())
	h.Event(transport.Event{State: transport.StateReady, Progress: 100})
	return []string{fmt.Sprintf("sink:%d", os.Getpid())}, nil
}

func (s *sink) Send(ctx context.Context, pkts []transport.Packet) error {
	s.n.Add(int64(len(pkts)))
	var echo []transport.Packet
	for _, p := range pkts {
		if p.Addr == "echo" {
			echo = append(echo, p)
		}
	}
	if len(echo) > 0 {
		s.mu.Lock()
		h := s.host
		s.mu.Unlock()
		return h.Deliver(ctx, echo)
	}
	return nil
}

func (s *sink) Stop(context.Context) error {
	if s.markDir != "" {
		_ = os.WriteFile(filepath.Join(s.markDir, "stopped"), []byte(fmt.Sprint(s.n.Load())), 0o644)
	}
	return nil
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSubprocess launches the test binary as a plugin process.
func startSubprocess(t testing.TB, logs *syncBuffer, env ...string) (*plugin.Client, plugin.ClientProtocol) {
	t.Helper()
	return startSubprocessKind(t, "transport", logs, env...)
}

func startSubprocessKind(t testing.TB, kind string, logs *syncBuffer, env ...string) (*plugin.Client, plugin.ClientProtocol) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), testPluginEnv+"="+kind), env...)
	var out = hclog.NewNullLogger()
	if logs != nil {
		out = hclog.New(&hclog.LoggerOptions{Name: "host", Output: logs, Level: hclog.Trace})
	}
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  GRPCDialOptions(),
		Logger:           out,
	})
	t.Cleanup(c.Kill)
	rpc, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c, rpc
}

// serveInProcess serves t in this process the way ServeTransport does
// (go-plugin's test mode, a real socket, the same gRPC options) and returns
// a host side client attached to it.
func serveInProcess(tb testing.TB, t transport.Transport) plugin.ClientProtocol {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins: plugin.PluginSet{
			PluginBase:      &wire.BasePlugin{Impl: t},
			PluginTransport: &wire.TransportPlugin{Impl: t},
		},
		GRPCServer: wire.NewGRPCServer,
		Logger:     hclog.NewNullLogger(),
		Test:       &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed},
	})
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          PluginSet(),
		Reattach:         <-reattach,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		GRPCDialOptions:  GRPCDialOptions(),
		Logger:           hclog.NewNullLogger(),
	})
	tb.Cleanup(func() {
		c.Kill()
		cancel()
		<-closed
	})
	rpc, err := c.Client()
	if err != nil {
		tb.Fatal(err)
	}
	return rpc
}

// echoService replies to every envelope and, first, announces it to the
// host through the Host callback.
type echoService struct {
	mu   sync.Mutex
	host service.Host
}

func (s *echoService) Info(context.Context) (base.Info, error) {
	return base.Info{Name: "echo", Kind: base.KindService, Version: "0.0.1", APIVersions: []int{APIVersion}}, nil
}
func (s *echoService) Configure(context.Context, base.Config) error { return nil }
func (s *echoService) Start(_ context.Context, h service.Host) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host = h
	return nil
}
func (s *echoService) Stop(context.Context) error { return nil }

func (s *echoService) Handle(ctx context.Context, env *envelope.Envelope) ([]*envelope.Envelope, error) {
	s.mu.Lock()
	h := s.host
	s.mu.Unlock()
	note := &envelope.Envelope{ID: envelope.NewID(), Kind: envelope.KindService, To: "audit", Payload: []byte(env.ID)}
	if err := h.Send(ctx, note); err != nil {
		return nil, fmt.Errorf("echo: announce: %w", err)
	}
	reply := *env
	reply.ID, reply.To, reply.From = envelope.NewID(), env.From, env.To
	return []*envelope.Envelope{&reply}, nil
}
