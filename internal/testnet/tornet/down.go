package tornet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/onemfive/onemfive/internal/testnet/pidfile"
)

// Down stops a network that Start ran with Detach into dir: it kills each
// pid listed in dir's pid file whose command line still names a file in
// dir (a reused pid is left alone), waits up to 5 s for them to exit, and
// removes the pid file. It returns how many processes it signalled.
func Down(dir string) (int, error) {
	n, err := pidfile.KillAll(dir)
	if err != nil {
		return n, fmt.Errorf("tornet: down: %w", err)
	}
	return n, nil
}

// Env reads the client torrc lines Start wrote into dir; with bridge, the
// lines to join through the obfs4 bridge.
func Env(dir string, bridge bool) ([]string, error) {
	name := ClientFile
	if bridge {
		name = BridgeClientFile
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("tornet: env: %w", err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n"), nil
}
