package daemon_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
)

// BenchmarkStartupAndFootprint starts a real daemon with the direct plugin
// b.N times and reports how long it took until the API answered with the
// plugin ready, and the resident memory of the idle host and of the plugin
// process (all resident pages, and private anonymous memory alone). Compare the figures across runs with benchstat; nothing here is
// a pass/fail threshold.
func BenchmarkStartupAndFootprint(b *testing.B) {
	hosttest.Daemon(b)
	var ready time.Duration
	var kb [4]int // host VmRSS, host RssAnon, plugin VmRSS, plugin RssAnon
	for i := 0; b.Loop(); i++ {
		h := newHost(b, fmt.Sprintf("S%d", i), hostOpts{})
		t0 := time.Now()
		h.Start()
		p := h.WaitPlugin("direct", "ready", 30*time.Second)
		ready += time.Since(t0)
		time.Sleep(500 * time.Millisecond) // idle
		for j, q := range []struct {
			pid   int
			field string
		}{{h.PID(), "VmRSS"}, {h.PID(), "RssAnon"}, {p.PID, "VmRSS"}, {p.PID, "RssAnon"}} {
			v, err := hosttest.ProcKB(q.pid, q.field)
			if err != nil {
				b.Fatal(err)
			}
			kb[j] += v
		}
		h.Stop()
	}
	n := float64(b.N)
	b.ReportMetric(float64(ready.Milliseconds())/n, "ms-to-ready")
	// VmRSS includes the clean, shared pages of the mapped executable;
	// RssAnon is the process's own memory.
	for j, unit := range []string{"host-RSS-MB", "host-anon-MB", "plugin-RSS-MB", "plugin-anon-MB"} {
		b.ReportMetric(float64(kb[j])/1024/n, unit)
	}
}
