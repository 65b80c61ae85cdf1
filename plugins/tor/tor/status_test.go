package tor

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

func TestParseStatus(t *testing.T) {
	s, err := parseStatus(`NOTICE BOOTSTRAP PROGRESS=45 TAG=requesting_descriptors SUMMARY="Asking for relay \"descriptors\""`)
	if err != nil {
		t.Fatal(err)
	}
	if s.Severity != "NOTICE" || s.Action != "BOOTSTRAP" || s.Args["PROGRESS"] != "45" ||
		s.Args["TAG"] != "requesting_descriptors" || s.Args["SUMMARY"] != `Asking for relay "descriptors"` {
		t.Fatalf("parsed %+v", s)
	}
	for _, bad := range []string{"", "NOTICE", `WARN X A="open`, `WARN X A="x\`} {
		if _, err := parseStatus(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func st(raw string) statusLine {
	s, err := parseStatus(raw)
	if err != nil {
		panic(err)
	}
	return s
}

// TestMonitorProgressThenReady: progress events in order, ready only
// once bootstrap is at 100% and the descriptor is uploaded.
func TestMonitorProgressThenReady(t *testing.T) {
	t0 := time.Unix(1000, 0)
	m := newMonitor(t0, time.Minute, 3)
	var got []transport.Event
	for i, p := range []string{"5 TAG=conn", "50 TAG=loading_descriptors", "100 TAG=done"} {
		got = append(got, m.status(t0.Add(time.Duration(i)*time.Second), "STATUS_CLIENT", st("NOTICE BOOTSTRAP PROGRESS="+p+` SUMMARY="x y"`))...)
	}
	if len(got) != 3 || got[0].Progress != 5 || got[1].Progress != 50 || got[2].Progress != 100 {
		t.Fatalf("events %+v", got)
	}
	if got[2].State != transport.StateStarting || m.ready() {
		t.Fatalf("ready before the descriptor upload: %+v", got[2])
	}
	evs := m.uploaded(t0.Add(4*time.Second), "$AB")
	if len(evs) != 1 || evs[0].State != transport.StateReady || evs[0].Progress != 100 || !m.ready() {
		t.Fatalf("after upload: %+v", evs)
	}
}

func TestMonitorBlocks(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := map[string]struct {
		feed func(m *monitor) []transport.Event
		want string
	}{
		"stuck": {func(m *monitor) []transport.Event {
			m.status(t0, "STATUS_CLIENT", st(`NOTICE BOOTSTRAP PROGRESS=10 TAG=conn_done SUMMARY="Connected"`))
			if evs := m.tick(t0.Add(59 * time.Second)); len(evs) != 0 {
				return evs
			}
			return m.tick(t0.Add(61 * time.Second))
		}, "bootstrap stuck at 10% (conn_done"},
		"guard failures": {func(m *monitor) []transport.Event {
			var evs []transport.Event
			for i := 1; i <= 3; i++ {
				evs = m.status(t0, "STATUS_CLIENT", st(`WARN BOOTSTRAP PROGRESS=2 TAG=conn SUMMARY="Connecting" WARNING="Connection refused" REASON=CONNECTREFUSED COUNT=`+string(rune('0'+i))+` RECOMMENDATION=ignore`))
			}
			return evs
		}, "guard or bridge connection failures: 3 at 2% (conn): Connection refused (CONNECTREFUSED)"},
		"directory": {func(m *monitor) []transport.Event {
			return m.status(t0, "STATUS_CLIENT", st(`WARN BOOTSTRAP PROGRESS=25 TAG=loading_status SUMMARY="x" WARNING="timeout" REASON=TIMEOUT COUNT=5`))
		}, "directory fetch failures"},
		"clock skew": {func(m *monitor) []transport.Event {
			return m.status(t0, "STATUS_GENERAL", st(`WARN CLOCK_SKEW SKEW=-7200 SOURCE=OR:127.0.0.1:5000`))
		}, "clock skew of -7200 s"},
	}
	for name, c := range cases {
		m := newMonitor(t0, time.Minute, 3)
		evs := c.feed(m)
		if len(evs) != 1 || evs[0].State != transport.StateBlocked || !strings.Contains(evs[0].Reason, c.want) {
			t.Errorf("%s: events %+v, want blocked with %q", name, evs, c.want)
			continue
		}
		// Bootstrap completing again clears the block.
		m.uploaded(t0, "$A")
		evs = m.status(t0.Add(time.Hour), "STATUS_CLIENT", st(`NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"`))
		if len(evs) != 1 || evs[0].State != transport.StateReady {
			t.Errorf("%s: after 100%%: %+v, want ready", name, evs)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	body := "\nport = 0\nmax_queue = 0\nstart_wait = \"soon\"\ncontrol_addr = \"127.0.0.1:9051\"\nbridges = [\"obfs4 1.2.3.4:5 X\"]\n"
	_, err := parseConfig(base.Config{Filename: "c.hcl", Body: []byte(body), DataDir: t.TempDir()})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"c.hcl:2:1: port", "c.hcl:3:1: max_queue", "c.hcl:4:1: start_wait", "c.hcl:5:1: control_addr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := parseConfig(base.Config{Filename: "c.hcl", Body: []byte("bogus = 1\n"), DataDir: t.TempDir()}); err == nil {
		t.Error("unknown key accepted")
	}
}

func TestCheckAddr(t *testing.T) {
	good := strings.Repeat("a", 52) + "aaad" + ".onion:4019" // version byte 3 at the end
	if err := checkAddr(good); err != nil {
		t.Errorf("%s: %v", good, err)
	}
	for _, bad := range []string{"", "x:1", "127.0.0.1:4019", strings.Repeat("a", 56) + ".onion:4019", good[:len(good)-5] + ":0", "abc.onion:80"} {
		if checkAddr(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFrameRoundTrip(t *testing.T) {
	addr := strings.Repeat("a", 52) + "aaad.onion:4019"
	b := appendHello(nil, addr)
	b = appendFrame(b, frameData, []byte("payload"))
	r := bytes.NewReader(b)
	typ, p, buf, err := readFrame(r, nil)
	if err != nil || typ != frameHello {
		t.Fatal(typ, err)
	}
	if got, err := decodeHello(p); err != nil || got != addr {
		t.Fatal(got, err)
	}
	typ, p, _, err = readFrame(r, buf)
	if err != nil || typ != frameData || string(p) != "payload" {
		t.Fatal(typ, string(p), err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(appendHello(nil, strings.Repeat("a", 52)+"aaad.onion:4019"))
	f.Add(appendFrame(nil, frameData, []byte("x")))
	f.Add([]byte{0, 0, 0, 0, 2})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		var buf []byte
		for {
			typ, p, nb, err := readFrame(r, buf)
			if err != nil {
				return
			}
			buf = nb
			if len(p) > transport.MaxPacketSize {
				t.Fatalf("payload of %d bytes", len(p))
			}
			if typ == frameHello {
				if a, err := decodeHello(p); err == nil && checkAddr(a) != nil {
					t.Fatalf("hello accepted a bad address %q", a)
				}
			}
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add(`NOTICE BOOTSTRAP PROGRESS=45 TAG=requesting_descriptors SUMMARY="Asking \"x\""`)
	f.Add(`WARN CLOCK_SKEW SKEW=-7200 SOURCE=OR:127.0.0.1:5000`)
	f.Add(`WARN BOOTSTRAP PROGRESS=2 TAG=conn COUNT=3 WARNING="a\\b"`)
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := parseStatus(raw)
		if err != nil {
			return
		}
		m := newMonitor(time.Unix(0, 0), time.Second, 3)
		for _, ev := range m.status(time.Unix(1, 0), "STATUS_CLIENT", s) {
			if ev.Progress < 0 || ev.Progress > 100 {
				t.Fatalf("progress %d", ev.Progress)
			}
		}
	})
}
