package i2p

import (
	"fmt"
	"strings"
	"time"

	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
	"github.com/onemfive/onemfive/sdk/transport"
)

// Session states the monitor tracks.
const (
	sessNone = iota
	sessCreating
	sessReady
)

// monitor turns what the router and the SAM bridge show into transport
// events. It is pure: the caller feeds it observations and the time, and
// sends the events it returns.
//
// Progress: 0 starting; 10 the SAM bridge answers; 30 the netdb holds
// routers (reseeded); 50 a router is connected; 70 the session's tunnels
// are being built; 100 ready (SESSION CREATE returned: i2pd reports a
// session only once its tunnels are built and its lease set is made and
// sent to the floodfills). Without I2PControl (an attached router with no
// control_addr) the router steps are skipped.
//
// Blocked, with every reason that holds: the SAM bridge does not answer;
// nothing received from any router for peerDeadline (i2pd's active peer
// count includes routers it is still dialling) ("after reseed" when the netdb is
// empty); reseed failed (i2pd logged it) and the netdb is empty; the
// session cannot be made while the tunnel creation success rate is below
// minRate. Each reason clears when its condition goes away; with none
// left the state follows progress again.
type monitor struct {
	peerDeadline time.Duration
	minRate      int

	samErr     string
	samOK      bool
	stats      *i2pd.Stats
	heardAt    time.Time // when the router last received bytes (or started)
	received   float64
	reseedErr  string
	session    int
	sessionErr string
	note       string // a one-off summary (restart) for the next event
	last       transport.Event
	emitted    bool
}

func newMonitor(now time.Time, peerDeadline time.Duration, minRate int) *monitor {
	return &monitor{peerDeadline: peerDeadline, minRate: minRate, heardAt: now}
}

// restart resets what a fresh i2pd (or a new attach) must show again.
func (m *monitor) restart(now time.Time, why string) {
	m.stats, m.samErr, m.reseedErr, m.sessionErr, m.samOK = nil, "", "", "", false
	m.session = sessNone
	// heardAt stays: a new i2pd has heard nothing yet either.
	m.received = 0
	m.note = why
}

func (m *monitor) sam(now time.Time, err error) []transport.Event {
	m.samErr, m.samOK = "", err == nil
	if err != nil {
		m.samErr = err.Error()
	}
	return m.eval(now)
}

func (m *monitor) routerStats(now time.Time, st i2pd.Stats) []transport.Event {
	// ActivePeers counts routers being dialled too: a router is
	// connected when it receives bytes. A smaller total means a new i2pd.
	if st.Received > m.received && st.ActivePeers > 0 {
		m.heardAt = now
	}
	m.received = st.Received
	if st.KnownPeers > 0 {
		m.reseedErr = ""
	}
	m.stats = &st
	return m.eval(now)
}

// logLine looks at one i2pd log line for reseed failures.
func (m *monitor) logLine(now time.Time, line string) []transport.Event {
	i := strings.Index(line, "Reseed: ")
	if i < 0 || !(strings.Contains(line, "/warn") || strings.Contains(line, "/error") || strings.Contains(line, "/critical")) {
		return nil
	}
	if m.stats != nil && m.stats.KnownPeers > 0 {
		return nil
	}
	m.reseedErr = strings.TrimSpace(line[i+len("Reseed: "):])
	return m.eval(now)
}

func (m *monitor) sessionCreating(now time.Time) []transport.Event {
	m.session = sessCreating
	return m.eval(now)
}

func (m *monitor) sessionFailed(now time.Time, err error) []transport.Event {
	m.session, m.sessionErr = sessNone, err.Error()
	return m.eval(now)
}

func (m *monitor) sessionReady(now time.Time) []transport.Event {
	m.session, m.sessionErr = sessReady, ""
	return m.eval(now)
}

func (m *monitor) sessionLost(now time.Time, why string) []transport.Event {
	m.session, m.sessionErr = sessNone, why
	return m.eval(now)
}

// isolated is how long the router has received nothing from any other
// router (0 before I2PControl has answered).
func (m *monitor) isolated(now time.Time) time.Duration {
	if m.stats == nil {
		return 0
	}
	return now.Sub(m.heardAt)
}

// tick re-evaluates time-based conditions (the peer deadline).
func (m *monitor) tick(now time.Time) []transport.Event { return m.eval(now) }

func (m *monitor) ready() bool { return m.emitted && m.last.State == transport.StateReady }

// blocks returns the phase of the first reason and every reason.
func (m *monitor) blocks(now time.Time) (string, []string) {
	var phase string
	var why []string
	add := func(p, r string) {
		if phase == "" {
			phase = p
		}
		why = append(why, r)
	}
	if m.samErr != "" {
		add("sam_unreachable", "SAM bridge unreachable: "+m.samErr)
	}
	if st := m.stats; st != nil {
		if now.Sub(m.heardAt) >= m.peerDeadline {
			// The reason names the deadline, not the time elapsed, so it
			// stays the same (and is reported once) while it holds.
			if st.KnownPeers == 0 {
				add("no_peers", fmt.Sprintf("no peers after reseed: the netdb is still empty after %v", m.peerDeadline))
			} else {
				add("no_peers", fmt.Sprintf("no peers: nothing heard from any of the %d known routers for %v", st.KnownPeers, m.peerDeadline))
			}
		}
		if m.session != sessReady && m.sessionErr != "" && st.SuccessRate < m.minRate {
			add("tunnel_build_failing", fmt.Sprintf("tunnel builds failing: creation success rate %d%% (below %d%%); session: %s",
				st.SuccessRate, m.minRate, m.sessionErr))
		}
	}
	if m.reseedErr != "" && (m.stats == nil || m.stats.KnownPeers == 0) {
		add("reseed_failed", "reseed failed: "+m.reseedErr)
	}
	return phase, why
}

// eval computes the current event and returns it if it differs from the
// last one sent (state, progress, phase or reason).
func (m *monitor) eval(now time.Time) []transport.Event {
	ev := transport.Event{Time: now}
	if m.stats != nil {
		ev.Peers = m.stats.ActivePeers
	}
	if phase, why := m.blocks(now); len(why) > 0 {
		ev.State, ev.Phase, ev.Reason = transport.StateBlocked, phase, strings.Join(why, "; ")
		ev.Progress = m.last.Progress
		ev.Summary = "blocked: " + ev.Reason
	} else {
		ev.State = transport.StateStarting
		st := m.stats
		switch {
		case m.session == sessReady:
			ev.State, ev.Progress, ev.Phase, ev.Summary = transport.StateReady, 100, "ready", "tunnels built, lease set published"
		case m.session == sessCreating:
			ev.Progress, ev.Phase, ev.Summary = 70, "building_tunnels", "building the session's tunnels"
		case st != nil && st.ActivePeers > 0:
			ev.Progress, ev.Phase, ev.Summary = 50, "peers", fmt.Sprintf("%d routers connected", st.ActivePeers)
		case st != nil && st.KnownPeers > 0:
			ev.Progress, ev.Phase, ev.Summary = 30, "reseeded", fmt.Sprintf("%d routers known", st.KnownPeers)
		case m.samOK:
			ev.Progress, ev.Phase, ev.Summary = 10, "sam", "SAM bridge answering"
		default:
			ev.Progress, ev.Phase, ev.Summary = 0, "starting", "starting"
		}
		if m.sessionErr != "" && m.session != sessReady {
			ev.Summary += "; last session attempt: " + m.sessionErr
		}
	}
	if m.note != "" && ev.State != transport.StateBlocked {
		// The first event after a restart says so.
		ev.State, ev.Phase, ev.Reason, ev.Summary = transport.StateStarting, "i2pd_restart", m.note, m.note
	}
	if m.emitted && ev.State == m.last.State && ev.Progress == m.last.Progress && ev.Phase == m.last.Phase &&
		ev.Reason == m.last.Reason && m.note == "" {
		return nil
	}
	m.note = ""
	m.last, m.emitted = ev, true
	return []transport.Event{ev}
}
