package tornet

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
)

// ErrNotIsolated is returned (wrapped) by Isolated and Start when the
// process can reach an interface other than loopback.
var ErrNotIsolated = errors.New("tornet: not in a loopback-only network namespace")

// Isolated reports nil when the only network interface this process sees
// is loopback: the state `unshare -n sh -c 'ip link set lo up && ...'`
// (and `make test`) produce. Otherwise it returns an error wrapping
// ErrNotIsolated that names the other interfaces.
func Isolated() error {
	names, err := interfaceNames()
	if err != nil {
		return fmt.Errorf("tornet: list interfaces: %w", err)
	}
	var other []string
	for _, n := range names {
		if n != "lo" {
			other = append(other, n)
		}
	}
	if len(other) > 0 {
		sort.Strings(other)
		return fmt.Errorf("%w: interfaces %s are visible; run inside `unshare -n sh -c 'ip link set lo up && ...'` (make test does)",
			ErrNotIsolated, strings.Join(other, ", "))
	}
	return nil
}

// interfaceNames lists the interfaces of this process's network
// namespace. net.Interfaces asks the kernel over netlink (it lists
// interfaces that are down, too); /proc/self/net/dev is the fallback.
// /sys/class/net is not used: it shows the namespace that mounted sysfs,
// which after a plain `unshare -n` is still the host's.
func interfaceNames() ([]string, error) {
	ifs, err := net.Interfaces()
	if err == nil {
		out := make([]string, 0, len(ifs))
		for _, i := range ifs {
			out = append(out, i.Name)
		}
		return out, nil
	}
	b, perr := os.ReadFile("/proc/self/net/dev")
	if perr != nil {
		return nil, errors.Join(err, perr)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok && !strings.Contains(name, "|") {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out, nil
}
