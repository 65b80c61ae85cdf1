package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
)

// Real-process tests: they build onemfived, the onemfive CLI and plugins,
// and run several daemons on 127.0.0.1. `make test` runs them inside a
// network namespace with only loopback.

func TestMain(m *testing.M) {
	code := m.Run()
	hosttest.Cleanup()
	os.Exit(code)
}

// host is a daemon with the direct transport on a fixed port, whose plugin
// records every payload it carries in tap.
type host struct {
	*hosttest.Host
	port int
	tap  string
}

type hostOpts struct {
	extra    []hosttest.Plugin
	noDirect bool
	config   string // extra top-level HCL
}

func newHost(t testing.TB, name string, o hostOpts) *host {
	t.Helper()
	port := hosttest.FreePort(t)
	tap := filepath.Join(t.TempDir(), "direct.tap")
	var plugins []hosttest.Plugin
	if !o.noDirect {
		plugins = append(plugins, hosttest.Plugin{Name: "direct", Binary: hosttest.Direct(t),
			Body: fmt.Sprintf("listen = \"127.0.0.1:%d\"\ntap_file = %q", port, tap)})
	}
	plugins = append(plugins, o.extra...)
	return &host{Host: hosttest.NewHost(t, name, hosttest.Options{Plugins: plugins, Config: o.config}), port: port, tap: tap}
}

// startPair starts hosts A and B with their direct transports ready and,
// if introduce is set, each knowing the other's record.
func startPair(t testing.TB, introduce bool) (*host, *host) {
	t.Helper()
	a, b := newHost(t, "A", hostOpts{}), newHost(t, "B", hostOpts{})
	startAll(a, b)
	if introduce {
		hosttest.Introduce(t, a.Host, b.Host)
	}
	return a, b
}

// startAll starts each host and waits until its direct transport is ready.
func startAll(hs ...*host) {
	for _, h := range hs {
		h.Start()
		h.WaitPlugin("direct", "ready", 30*time.Second)
	}
}

// onionBlock is an onion block for a test of the onion layer: every packet
// the node handles is logged to obs, envelopes wait for onion paths rather
// than go without hops, relays are probed every second; extra lines go in
// the block.
func onionBlock(obs, extra string) string {
	return fmt.Sprintf("onion {\n  observe_log = %q\n  fallback_direct = false\n  probe_interval = \"1s\"\n%s}\n", obs, extra)
}

func futurePlugin(t testing.TB) string {
	return hosttest.Build(t, "./host/daemon/testdata/futureplugin", "onemfive-transport-future")
}

func echoPlugin(t testing.TB) string {
	return hosttest.Build(t, "./host/daemon/testdata/echoservice", "onemfive-service-echo")
}
