package i2pnet

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/onemfive/onemfive/internal/testnet/pidfile"
	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
)

// Down stops a network that Start ran with Detach into dir: it kills each
// pid listed in dir's pid file whose command line still names a file in
// dir (a reused pid is left alone), waits up to 5 s for them to exit, and
// removes the pid file. It returns how many processes it signalled.
func Down(dir string) (int, error) {
	n, err := pidfile.KillAll(dir)
	if err != nil {
		return n, fmt.Errorf("i2pnet: down: %w", err)
	}
	return n, nil
}

// Env reads the client options Start wrote into dir.
func Env(dir string) (i2pd.Options, error) {
	b, err := os.ReadFile(filepath.Join(dir, ClientFile))
	if err != nil {
		return nil, fmt.Errorf("i2pnet: env: %w", err)
	}
	return parseOptions(string(b))
}

// formatOptions writes options one "key = value" a line, sorted.
func formatOptions(o i2pd.Options) string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, o[k])
	}
	return b.String()
}

// parseOptions reads what formatOptions wrote.
func parseOptions(s string) (i2pd.Options, error) {
	o := i2pd.Options{}
	for i, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		k, v, ok := strings.Cut(l+" ", " = ")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("i2pnet: env: line %d: want key = value", i+1)
		}
		o[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return o, o.Check()
}
