package tor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/internal/testnet/tornet"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

// One private Tor network serves the whole test binary: started by the
// first test that needs it, stopped by TestMain.
var shared struct {
	once sync.Once
	net  *tornet.Network
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.net != nil {
		shared.net.Stop()
	}
	os.Exit(code)
}

// privateNet returns the shared network, skipping the test outside a
// loopback-only namespace (make test runs inside one).
func privateNet(t *testing.T) *tornet.Network {
	t.Helper()
	if err := tornet.Isolated(); err != nil {
		t.Skipf("needs a loopback-only network namespace to run tor (make test provides one): %v", err)
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
		defer cancel()
		// Six relays rather than the minimum three: onion-service
		// circuits with vanguards-lite exclude the guard, the layer-2
		// set and the far end, and a four-relay network sometimes
		// leaves no candidate ("Could not find a node that matches the
		// configured _HSLayer2Nodes set"), stalling a rendezvous for
		// minutes.
		shared.net, shared.err = tornet.Start(ctx, tornet.Options{Relays: 6, Bridge: true})
	})
	if shared.err != nil {
		t.Fatalf("private tor network: %v", shared.err)
	}
	return shared.net
}

// hclList renders lines as an HCL list of strings.
func hclList(lines []string) string {
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = fmt.Sprintf("%q", l)
	}
	return "[\n    " + strings.Join(q, ",\n    ") + "\n  ]"
}

// newTransport makes a configured transport whose own tor joins the
// private network; extra is appended to its config block.
func newTransport(t *testing.T, torrc []string, extra string) *Transport {
	t.Helper()
	dir := t.TempDir()
	body := fmt.Sprintf("torrc = %s\ndial_timeout = \"20s\"\nmax_queue = 1024\n%s", hclList(torrc), extra)
	if !strings.Contains(extra, "start_wait") {
		body += "start_wait = \"9s\"\n"
	}
	tr := New(WithLogger(hclog.New(&hclog.LoggerOptions{Name: "tor", Level: logLevel()})))
	if err := tr.Configure(context.Background(), base.Config{Filename: "test.hcl", Body: []byte(body), DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop(context.Background()) })
	return tr
}

func logLevel() hclog.Level {
	if os.Getenv("ONEMFIVE_TEST_LOGS") != "" {
		return hclog.Debug
	}
	return hclog.Warn
}

var _ transport.Transport = (*Transport)(nil)
