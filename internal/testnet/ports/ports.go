package ports

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Fallback bounds when the ephemeral range cannot be read.
const (
	lowest       = 10000
	defaultStart = 32768 // Linux's default ip_local_port_range start
)

// ephemeralStart is the first port of the kernel's ephemeral range.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultStart
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return defaultStart
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= lowest+1000 {
		return defaultStart
	}
	return n
}

// Free returns n distinct ports on 127.0.0.1, below the ephemeral range,
// that were free a moment ago for TCP (and for UDP too when udp is set).
// Ports are drawn at random, so concurrent test processes rarely pick the
// same one; a pick is kept only if it could be bound.
func Free(n int, udp bool) ([]int, error) {
	hi := ephemeralStart()
	var out []int
	seen := map[int]bool{}
	for tries := 0; len(out) < n; tries++ {
		if tries > 100*n+1000 {
			return nil, fmt.Errorf("ports: no free port in %d..%d after %d tries", lowest, hi-1, tries)
		}
		p := lowest + rand.IntN(hi-lowest)
		if seen[p] {
			continue
		}
		seen[p] = true
		if bindable(p, udp) {
			out = append(out, p)
		}
	}
	return out, nil
}

func bindable(p int, udp bool) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	if udp {
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}
