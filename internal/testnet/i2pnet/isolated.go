package i2pnet

import (
	"fmt"

	"github.com/onemfive/onemfive/internal/testnet/tornet"
)

// ErrNotIsolated is returned (wrapped) by Isolated and Start when the
// process can reach an interface other than loopback. It is the same
// sentinel tornet uses: the check is the same.
var ErrNotIsolated = tornet.ErrNotIsolated

// Isolated reports nil when the only network interface this process sees
// is loopback (`unshare -n sh -c 'ip link set lo up && ...'`, make test).
func Isolated() error {
	if err := tornet.Isolated(); err != nil {
		return fmt.Errorf("i2pnet: %w", err)
	}
	return nil
}
