package sdk

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ParentPIDEnv names an environment variable a host may set to its own pid
// when something sits between it and the plugin (a wrapper or sandbox), so
// the plugin still exits when the host is gone.
const ParentPIDEnv = "ONEMFIVE_PARENT_PID"

const watchdogInterval = 500 * time.Millisecond

// watchdog notices that the host process went away: the parent pid
// changed (the plugin was re-parented), or the pid named by ParentPIDEnv is
// no longer alive. Its sources are injected so the logic is testable.
type watchdog struct {
	getppid  func() int
	alive    func(pid int) bool
	ppid     int
	hostPID  int
	badValue string // ParentPIDEnv held something that is not a pid
}

func newWatchdog(getppid func() int, alive func(int) bool, envPID string) *watchdog {
	w := &watchdog{getppid: getppid, alive: alive, ppid: getppid()}
	if envPID != "" {
		pid, err := strconv.Atoi(envPID)
		if err != nil || pid <= 0 {
			w.badValue = envPID
		} else {
			w.hostPID = pid
		}
	}
	return w
}

// check reports why the host is gone, or "" while it is there.
func (w *watchdog) check() string {
	if p := w.getppid(); p != w.ppid {
		return fmt.Sprintf("parent pid changed from %d to %d", w.ppid, p)
	}
	if w.hostPID > 0 && !w.alive(w.hostPID) {
		return fmt.Sprintf("host pid %d (%s) is gone", w.hostPID, ParentPIDEnv)
	}
	return ""
}

// run polls until ctx ends or the host is gone, then calls gone once.
func (w *watchdog) run(ctx context.Context, every time.Duration, gone func(why string)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if why := w.check(); why != "" {
			gone(why)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
