package ports

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeBelowEphemeralRange(t *testing.T) {
	hi := ephemeralStart()
	ps, err := Free(20, true)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ps {
		if p < lowest || p >= hi {
			t.Errorf("port %d outside %d..%d", p, lowest, hi-1)
		}
		if seen[p] {
			t.Errorf("port %d twice", p)
		}
		seen[p] = true
	}
	// Each can be listened on, TCP and UDP.
	for _, p := range ps[:3] {
		a := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("port %d: %v", p, err)
		}
		l.Close()
	}
	// A port in use is never returned.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ps[0])))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if bindable(ps[0], false) {
		t.Errorf("port %d reported bindable while listened on", ps[0])
	}
}
