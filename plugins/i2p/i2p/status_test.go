package i2p

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
	"github.com/onemfive/onemfive/sdk/transport"
)

// last returns the last event of evs, failing if there is none.
func last(t *testing.T, evs []transport.Event) transport.Event {
	t.Helper()
	if len(evs) == 0 {
		t.Fatal("no event")
	}
	return evs[len(evs)-1]
}

func TestMonitorProgress(t *testing.T) {
	t0 := time.Unix(1000, 0)
	m := newMonitor(t0, time.Minute, 5)
	var progress []int
	var phases []string
	add := func(evs []transport.Event) {
		for _, ev := range evs {
			progress = append(progress, ev.Progress)
			phases = append(phases, ev.Phase)
		}
	}
	add(m.tick(t0))
	add(m.sam(t0, nil))
	add(m.routerStats(t0.Add(time.Second), i2pd.Stats{KnownPeers: 4, SuccessRate: 10}))
	add(m.routerStats(t0.Add(2*time.Second), i2pd.Stats{KnownPeers: 4, ActivePeers: 2, SuccessRate: 10}))
	add(m.sessionCreating(t0.Add(2 * time.Second)))
	add(m.routerStats(t0.Add(3*time.Second), i2pd.Stats{KnownPeers: 4, ActivePeers: 2, SuccessRate: 10}))
	add(m.sessionReady(t0.Add(9 * time.Second)))
	want := []string{"starting", "sam", "reseeded", "peers", "building_tunnels", "ready"}
	if strings.Join(phases, ",") != strings.Join(want, ",") {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] <= progress[i-1] {
			t.Fatalf("progress not increasing: %v", progress)
		}
	}
	if !m.ready() || progress[len(progress)-1] != 100 {
		t.Fatalf("not ready at the end: %v", progress)
	}
}

func TestMonitorBlockedAndCleared(t *testing.T) {
	t0 := time.Unix(1000, 0)
	connected := i2pd.Stats{KnownPeers: 4, ActivePeers: 3, SuccessRate: 60, Received: 1000}
	alone := i2pd.Stats{KnownPeers: 4, ActivePeers: 1, SuccessRate: 60, Received: 1000} // dialling, hearing nothing
	cases := []struct {
		name      string
		block     func(m *monitor) []transport.Event
		phase     string
		reason    string
		recover   func(m *monitor) []transport.Event
		wantAfter transport.State
	}{
		{"sam unreachable",
			func(m *monitor) []transport.Event {
				return m.sam(t0.Add(time.Second), errors.New("dial tcp: connection refused"))
			},
			"sam_unreachable", "SAM bridge unreachable: dial tcp: connection refused",
			func(m *monitor) []transport.Event { return m.sam(t0.Add(2*time.Second), nil) }, transport.StateReady},
		{"peers gone",
			func(m *monitor) []transport.Event {
				m.routerStats(t0.Add(time.Second), alone)
				if evs := m.tick(t0.Add(30 * time.Second)); len(evs) > 0 && evs[0].State == transport.StateBlocked {
					t.Fatalf("blocked before the deadline: %+v", evs)
				}
				return m.tick(t0.Add(62 * time.Second))
			},
			"no_peers", "no peers: nothing heard from any of the 4 known routers for 1m0s",
			func(m *monitor) []transport.Event {
				back := connected
				back.Received = 2000
				return m.routerStats(t0.Add(70*time.Second), back)
			}, transport.StateReady},
		{"empty netdb after reseed failure",
			func(m *monitor) []transport.Event {
				m.routerStats(t0, i2pd.Stats{})
				return m.logLine(t0.Add(time.Second), "12:00:00@123/warn - Reseed: Failed to reseed from /x/seed.zip")
			},
			"reseed_failed", "reseed failed: Failed to reseed from /x/seed.zip",
			func(m *monitor) []transport.Event {
				back := connected
				back.Received = 3000
				return m.routerStats(t0.Add(2*time.Second), back)
			}, transport.StateReady},
		{"tunnel builds failing",
			func(m *monitor) []transport.Event {
				m.sessionFailed(t0, errors.New("session create: context deadline exceeded"))
				return m.routerStats(t0.Add(time.Second), i2pd.Stats{KnownPeers: 4, ActivePeers: 3, SuccessRate: 1, Received: 1500})
			},
			"tunnel_build_failing", "tunnel builds failing: creation success rate 1% (below 5%); session: session create: context deadline exceeded",
			func(m *monitor) []transport.Event { return m.sessionReady(t0.Add(5 * time.Second)) }, transport.StateReady},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMonitor(t0, time.Minute, 5)
			m.sam(t0, nil)
			m.routerStats(t0, connected)
			if c.name != "tunnel builds failing" && c.name != "empty netdb after reseed failure" {
				m.sessionReady(t0)
			}
			ev := last(t, c.block(m))
			if ev.State != transport.StateBlocked || ev.Phase != c.phase || ev.Reason != c.reason {
				t.Fatalf("got %v %q %q, want blocked %q %q", ev.State, ev.Phase, ev.Reason, c.phase, c.reason)
			}
			if c.name == "empty netdb after reseed failure" {
				m.sessionReady(t0.Add(time.Second))
			}
			ev = last(t, c.recover(m))
			if ev.State != c.wantAfter || ev.Reason != "" {
				t.Fatalf("after recovery: %+v", ev)
			}
		})
	}
}

func TestMonitorRestartAndDedup(t *testing.T) {
	t0 := time.Unix(1000, 0)
	m := newMonitor(t0, time.Minute, 5)
	m.sam(t0, nil)
	m.sessionReady(t0)
	if evs := m.sam(t0.Add(time.Second), nil); len(evs) != 0 {
		t.Fatalf("unchanged state reported again: %+v", evs)
	}
	m.restart(t0.Add(2*time.Second), "i2pd exited: signal: killed")
	ev := last(t, m.eval(t0.Add(2*time.Second)))
	if ev.Phase != "i2pd_restart" || ev.State != transport.StateStarting || !strings.Contains(ev.Reason, "killed") {
		t.Fatalf("restart event %+v", ev)
	}
	ev = last(t, m.sam(t0.Add(3*time.Second), nil))
	if ev.Phase != "sam" {
		t.Fatalf("after restart: %+v", ev)
	}
}
