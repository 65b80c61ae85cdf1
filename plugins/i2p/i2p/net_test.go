package i2p

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/onemfive/onemfive/internal/testnet/i2pnet"
	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
	"github.com/onemfive/onemfive/sdk/base"
)

// One private I2P network serves the whole test binary: started by the
// first test that needs it, stopped by TestMain.
var shared struct {
	once sync.Once
	net  *i2pnet.Network
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.net != nil {
		shared.net.Stop()
	}
	os.Exit(code)
}

// privateNet returns the shared network (four routers, two floodfills,
// SAM on each), skipping the test outside a loopback-only namespace or
// without i2pd >= 2.51.
func privateNet(t *testing.T) *i2pnet.Network {
	t.Helper()
	if err := i2pnet.Isolated(); err != nil {
		t.Skipf("needs a loopback-only network namespace to run i2pd (make test provides one): %v", err)
	}
	if _, err := i2pd.Find(context.Background(), ""); err != nil {
		t.Skipf("needs i2pd >= 2.51 (CI installs it): %v", err)
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		// ONEMFIVE_I2PNET_DIR keeps the routers' logs after the run.
		// Info-level router logs record peer bans and lookups for
		// Diagnose.
		shared.net, shared.err = i2pnet.Start(ctx, i2pnet.Options{SAM: true, Dir: os.Getenv("ONEMFIVE_I2PNET_DIR"), Logf: t.Logf, LogLevel: "info"})
	})
	if shared.err != nil {
		t.Fatalf("private i2p network: %v", shared.err)
	}
	n := shared.net
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("private i2p network, router logs:\n%s", n.Diagnose(40))
		}
	})
	return n
}

// hclMap renders options as an HCL object.
func hclMap(o i2pd.Options) string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "    %q = %q\n", k, o[k])
	}
	b.WriteString("  }")
	return b.String()
}

// testBody is the config a test transport gets: short tunnels (a
// handful of routers cannot give many distinct hops) and short waits.
const testBody = "tunnel_length = 1\nsam_timeout = \"10s\"\ndial_timeout = \"30s\"\nmax_queue = 1024\npoll_interval = \"500ms\"\n"

// managedBody is the config of a transport running its own i2pd on n.
func managedBody(n *i2pnet.Network) string {
	return "i2pd = " + hclMap(n.ClientOptions()) + "\n" + testBody
}

// attachedBody is the config of a transport using r's SAM bridge.
func attachedBody(r i2pnet.Router) string {
	return fmt.Sprintf("sam_addr = %q\ncontrol_addr = \"127.0.0.1:%d\"\ncontrol_password = %q\n%s",
		r.SAMAddr(), r.ControlPort, i2pnet.ControlPassword, testBody)
}

// newTransport makes a configured transport; body is its config block.
func newTransport(t *testing.T, body, dataDir string) *Transport {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	if !strings.Contains(body, "start_wait") {
		body += "start_wait = \"60s\"\n"
	}
	tr := New(WithLogger(hclog.New(&hclog.LoggerOptions{Name: "i2p", Level: logLevel()})))
	if err := tr.Configure(context.Background(), base.Config{Filename: "test.hcl", Body: []byte(body), DataDir: dataDir}); err != nil {
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
