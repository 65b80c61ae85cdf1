package i2p

import (
	"context"
	"fmt"
	"time"

	"github.com/onemfive/onemfive/sdk/transport"
)

// pollLoop asks the SAM bridge (HELLO) and, when there is one, I2PControl
// every poll_interval, and feeds the monitor.
func (t *Transport) pollLoop() {
	defer t.wg.Done()
	tick := time.NewTicker(t.cfg.pollInterval)
	defer tick.Stop()
	var lastKick time.Time
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		t.mu.Lock()
		samAddr, ctl := t.samAddr, t.control
		t.mu.Unlock()
		ctx, cancel := context.WithTimeout(t.ctx, t.cfg.samTimeout)
		samErr := probeSAM(ctx, samAddr)
		cancel()
		if t.ctx.Err() != nil {
			return
		}
		t.observe(func(m *monitor, now time.Time) []transport.Event { return m.sam(now, samErr) })
		if ctl != nil && samErr == nil {
			ctx, cancel := context.WithTimeout(t.ctx, t.cfg.samTimeout)
			st, err := ctl.Stats(ctx)
			cancel()
			if err == nil {
				t.observe(func(m *monitor, now time.Time) []transport.Event { return m.routerStats(now, st) })
			} else if t.ctx.Err() == nil {
				t.log.Debug("i2pcontrol poll failed", "error", err)
			}
		}
		var alone time.Duration
		t.observe(func(m *monitor, now time.Time) []transport.Event {
			alone = m.isolated(now)
			return m.tick(now)
		})
		t.restartIfIsolated(alone, &lastKick)
	}
}

// restartIfIsolated restarts the managed i2pd when no router has been
// connected for twice peer_deadline (and not more often than that). i2pd
// marks routers it failed to reach unreachable for eight minutes and
// will not try them again meanwhile, so a node whose peers all went away
// would stay alone for that long after they came back; a new i2pd
// forgets those marks and reseeds.
func (t *Transport) restartIfIsolated(alone time.Duration, last *time.Time) {
	t.mu.Lock()
	r := t.router
	t.mu.Unlock()
	every := 2 * t.cfg.peerDeadline
	if r == nil || !t.cfg.restart || alone < every || time.Since(*last) < every {
		return
	}
	*last = time.Now()
	why := fmt.Sprintf("no router connected for %v: restarting i2pd so it tries the routers it marked unreachable again", alone.Round(time.Second))
	t.log.Warn(why)
	r.why.Store(why)
	r.stop()
}

// supervise waits for the managed i2pd to exit and, unless stopping,
// restarts it with the same data directory: the same router identity and,
// through the keys file, the same destination.
func (t *Transport) supervise(r *router) {
	defer t.wg.Done()
	select {
	case <-t.ctx.Done():
		return
	case <-r.exited:
	}
	reason := "i2pd exited: " + r.cmd.ProcessState.String()
	if why, ok := r.why.Load().(string); ok {
		reason = why
	}
	if !t.cfg.restart {
		t.event(transport.Event{State: transport.StateFailed, Phase: "i2pd_exited", Reason: reason, Summary: reason})
		return
	}
	t.log.Warn("i2pd gone; restarting it", "reason", reason, "pid", r.pid())
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		note := fmt.Sprintf("%s; restarting it (attempt %d)", reason, attempt)
		t.observe(func(m *monitor, now time.Time) []transport.Event {
			m.restart(now, note)
			return m.eval(now)
		})
		ctx, cancel := context.WithTimeout(t.ctx, 30*time.Second)
		next, err := t.startRouter(ctx)
		cancel()
		if err == nil {
			t.mu.Lock()
			stopping := t.stopped
			if !stopping {
				t.router, t.samAddr, t.control = next, next.samAddr, next.control
				t.restarts++
			}
			t.mu.Unlock()
			if stopping {
				next.stop()
				return
			}
			t.log.Info("i2pd restarted", "pid", next.pid(), "sam", next.samAddr)
			select {
			case t.kick <- struct{}{}:
			default:
			}
			t.wg.Add(1)
			go t.supervise(next)
			return
		}
		t.log.Error("i2pd restart failed", "error", err, "attempt", attempt)
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
