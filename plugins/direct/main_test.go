package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/hcl/v2"

	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// The test binary doubles as the plugin: with servePluginEnv set it runs
// main, so the conformance suite below drives the real plugin process
// through go-plugin, AutoMTLS and the SDK's gRPC adapters, as the host does.
const servePluginEnv = "ONEMFIVE_DIRECT_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(servePluginEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startPlugin(t *testing.T) sdk.TransportClient {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), servePluginEnv+"=1")
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginSet(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "direct-test", Level: hclog.Warn}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin process: %v", err)
	}
	bp, err := sdk.DispenseBase(rpc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body := []byte("listen = \"127.0.0.1:0\"\nkeepalive = \"5s\"\n")
	if err := bp.Configure(ctx, base.Config{Filename: "test.hcl", Body: body, DataDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	tr, err := sdk.DispenseTransport(rpc)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestConformanceOverPluginBoundary runs the SDK conformance suite against
// the direct transport in its own process.
func TestConformanceOverPluginBoundary(t *testing.T) {
	transporttest.Run(t, func(t *testing.T) transport.Transport { return startPlugin(t) })
}

// TestConfigErrorCrossesBoundary checks that a bad block is refused by the
// plugin process with the block's real position.
func TestConfigErrorCrossesBoundary(t *testing.T) {
	exe, _ := os.Executable()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), servePluginEnv+"=1")
	client := plugin.NewClient(&plugin.ClientConfig{HandshakeConfig: sdk.Handshake, Plugins: sdk.PluginSet(), Cmd: cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC}, AutoMTLS: true,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn})})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		t.Fatal(err)
	}
	bp, _ := sdk.DispenseBase(rpc)
	err = bp.Configure(context.Background(), base.Config{Filename: "config.hcl", Start: hcl.Pos{Line: 40, Column: 18, Byte: 900},
		Body: []byte("\n  listen = \"127.0.0.1:0\"\n  bogus = 1\n")})
	if err == nil {
		t.Fatal("unknown key accepted")
	}
	if want := "config.hcl:42"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
}
