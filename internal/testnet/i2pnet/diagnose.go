package i2pnet

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// noise are log lines every run has plenty of and that say nothing about
// why traffic stalled: clients closing SAM sockets, the plugin's control
// polls, certificate directories this network does not use.
var noise = []string{
	"SAM: Read error",
	"SAM: Stream read error",
	"I2PControl:",
	"certificates from",
	"SAM: I2P acceptor has been reset",
}

// Diagnose returns, for every router, the last max lines of its log that
// are not routine noise: what a failed test prints to say which router
// banned which peer, which lease set lookup failed, which tunnel broke.
// With Options.LogLevel "info" that includes peer bans ("No compatible
// addresses available") and lookups; at "warn", only warnings.
func (n *Network) Diagnose(max int) string {
	var b strings.Builder
	for _, r := range n.Routers {
		lines, err := tailLines(filepath.Join(r.Dir, "stdout.log"), max)
		fmt.Fprintf(&b, "--- %s (port %d, floodfill %t, sam %s)", r.Name, r.Port, r.Floodfill, r.SAMAddr())
		if err != nil {
			fmt.Fprintf(&b, ": %v\n", err)
			continue
		}
		fmt.Fprintf(&b, ": last %d notable log lines\n", len(lines))
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// tailLines reads path and keeps its last max lines that are not noise.
func tailLines(path string, max int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ring := make([]string, 0, max)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if isNoise(l) || max <= 0 {
			continue
		}
		if len(ring) == max {
			copy(ring, ring[1:])
			ring = ring[:max-1]
		}
		ring = append(ring, l)
	}
	return ring, sc.Err()
}

func isNoise(l string) bool {
	for _, s := range noise {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
