package tor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
)

// statusLine is a parsed tor status event ("STATUS_CLIENT NOTICE BOOTSTRAP
// PROGRESS=10 TAG=conn_done SUMMARY=\"Connected to a relay\"") without its
// event code: severity, action and arguments.
type statusLine struct {
	Severity string
	Action   string
	Args     map[string]string
}

// parseStatus parses the part of a status event after its code. Argument
// values may be quoted with backslash escapes (tor's QuotedString), which
// bine's own parser splits at spaces. Keys without "=" are kept with an
// empty value.
func parseStatus(raw string) (statusLine, error) {
	s := statusLine{Args: map[string]string{}}
	toks, err := tokenize(raw)
	if err != nil {
		return s, err
	}
	if len(toks) < 2 {
		return s, errors.New("status event: want severity and action")
	}
	s.Severity, s.Action = toks[0], toks[1]
	for _, t := range toks[2:] {
		k, v, _ := strings.Cut(t, "=")
		s.Args[k] = v
	}
	return s, nil
}

// tokenize splits at spaces outside double quotes and unquotes quoted
// parts (\" \\ \n \t escapes).
func tokenize(raw string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	inTok, quoted := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case quoted && c == '\\':
			if i+1 >= len(raw) {
				return nil, errors.New("status event: dangling escape")
			}
			i++
			switch raw[i] {
			case 'n':
				cur.WriteByte('\n')
			case 't':
				cur.WriteByte('\t')
			default:
				cur.WriteByte(raw[i])
			}
		case c == '"':
			quoted = !quoted
			inTok = true
		case !quoted && (c == ' ' || c == '\r' || c == '\n'):
			if inTok {
				toks = append(toks, cur.String())
				cur.Reset()
				inTok = false
			}
		default:
			cur.WriteByte(c)
			inTok = true
		}
	}
	if quoted {
		return nil, errors.New("status event: unterminated quote")
	}
	if inTok {
		toks = append(toks, cur.String())
	}
	return toks, nil
}

// dirPhases are bootstrap tags during which a failure is a directory fetch
// failure rather than a failure to reach a guard or bridge.
var dirPhases = map[string]bool{
	"requesting_status": true, "loading_status": true, "loading_keys": true,
	"requesting_descriptors": true, "loading_descriptors": true, "enough_dirinfo": true,
	"conn_dir": true, "handshake_dir": true, "onehop_create": true,
}

// monitor turns what tor reports into transport events. It is pure: the
// caller feeds it tor's events and the time, and sends what it returns.
//
// States: starting while bootstrapping; ready once bootstrap is at 100%
// and the onion service descriptor has been uploaded; blocked when
// bootstrap is stuck in one phase past deadline, when a bootstrap problem
// repeats maxFailures times (guard or bridge connections, directory
// fetches), or when tor reports clock skew. Reaching 100% again clears a
// block (ready).
type monitor struct {
	deadline    time.Duration
	maxFailures int

	progress   int
	phase      string
	summary    string
	phaseSince time.Time
	published  bool
	blocked    bool
	reason     string
	state      transport.State
	circFails  int
}

func newMonitor(now time.Time, deadline time.Duration, maxFailures int) *monitor {
	return &monitor{deadline: deadline, maxFailures: maxFailures, phaseSince: now, phase: "starting", state: transport.StateStarting}
}

func (m *monitor) ev(now time.Time, st transport.State, summary, reason string) transport.Event {
	m.state = st
	return transport.Event{Time: now, State: st, Progress: m.progress, Phase: m.phase, Summary: summary, Reason: reason}
}

// ready reports whether the monitor considers the transport ready.
func (m *monitor) ready() bool { return m.state == transport.StateReady }

// restart resets the monitor for a freshly started tor.
func (m *monitor) restart(now time.Time) {
	m.progress, m.phase, m.summary, m.phaseSince, m.published, m.circFails = 0, "starting", "", now, false, 0
}

// status handles one STATUS_CLIENT or STATUS_GENERAL event.
func (m *monitor) status(now time.Time, code string, s statusLine) []transport.Event {
	switch {
	case s.Action == "BOOTSTRAP":
		return m.bootstrap(now, s)
	case s.Action == "CLOCK_SKEW":
		src := s.Args["SOURCE"]
		return m.block(now, fmt.Sprintf("clock skew of %s s reported by %s: tor cannot use the consensus until the clock is right", s.Args["SKEW"], src))
	case code == "STATUS_CLIENT" && s.Action == "CIRCUIT_ESTABLISHED":
		return m.circuitBuilt(now)
	case code == "STATUS_CLIENT" && s.Action == "DANGEROUS_SOCKS":
		return nil
	}
	return nil
}

func (m *monitor) bootstrap(now time.Time, s statusLine) []transport.Event {
	p, err := strconv.Atoi(s.Args["PROGRESS"])
	if err != nil || p < 0 || p > 100 {
		return nil
	}
	tag := s.Args["TAG"]
	if tag != m.phase || p != m.progress {
		m.phaseSince = now
	}
	m.progress, m.phase, m.summary = p, tag, s.Args["SUMMARY"]
	if s.Severity == "WARN" || s.Severity == "ERR" {
		n, _ := strconv.Atoi(s.Args["COUNT"])
		if n >= m.maxFailures || s.Severity == "ERR" {
			what := "guard or bridge connection failures"
			if dirPhases[tag] {
				what = "directory fetch failures"
			}
			return m.block(now, fmt.Sprintf("%s: %d at %d%% (%s): %s (%s)", what, n, p, tag, s.Args["WARNING"], s.Args["REASON"]))
		}
		return nil
	}
	summary := fmt.Sprintf("bootstrapped %d%%: %s", p, m.summary)
	if p == 100 {
		m.blocked, m.reason = false, ""
		if m.published {
			return []transport.Event{m.ev(now, transport.StateReady, summary+"; onion service published", "")}
		}
		return []transport.Event{m.ev(now, transport.StateStarting, summary+"; publishing the onion service", "")}
	}
	st := transport.StateStarting
	if m.blocked {
		st = transport.StateBlocked
	}
	return []transport.Event{m.ev(now, st, summary, m.reason)}
}

// uploaded handles HS_DESC UPLOADED for this node's service.
func (m *monitor) uploaded(now time.Time, hsdir string) []transport.Event {
	if m.published {
		return nil
	}
	m.published = true
	if m.progress == 100 && !m.blocked {
		m.phase = "published"
		return []transport.Event{m.ev(now, transport.StateReady, "onion service published (descriptor uploaded to "+hsdir+")", "")}
	}
	return nil
}

// circuitFailed handles CIRC FAILED. Failures are reported (Phase
// "circuit_failed") so a person sees them; they do not block by
// themselves, bootstrap warnings and the stuck deadline do.
func (m *monitor) circuitFailed(now time.Time, reason string) []transport.Event {
	m.circFails++
	st := m.state
	ev := transport.Event{Time: now, State: st, Progress: m.progress, Phase: "circuit_failed",
		Summary: fmt.Sprintf("circuit failed (%s); %d since the last built circuit", reason, m.circFails), Reason: m.reason}
	return []transport.Event{ev}
}

func (m *monitor) circuitBuilt(time.Time) []transport.Event {
	m.circFails = 0
	return nil
}

// tick checks the stuck-bootstrap deadline.
func (m *monitor) tick(now time.Time) []transport.Event {
	if m.progress >= 100 || m.blocked || m.deadline <= 0 || now.Sub(m.phaseSince) < m.deadline {
		return nil
	}
	return m.block(now, fmt.Sprintf("bootstrap stuck at %d%% (%s: %s) for %v", m.progress, m.phase, m.summary,
		now.Sub(m.phaseSince).Round(time.Second)))
}

func (m *monitor) block(now time.Time, reason string) []transport.Event {
	if m.blocked && m.reason == reason {
		return nil
	}
	m.blocked, m.reason = true, reason
	return []transport.Event{m.ev(now, transport.StateBlocked, "blocked: "+reason, reason)}
}
