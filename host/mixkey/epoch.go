package mixkey

import (
	"errors"
	"fmt"
	"time"
)

// Default schedule values: one-hour epochs counted from the Unix epoch, with
// ten minutes of grace either side.
const (
	DefaultEpochLength = time.Hour
	DefaultGrace       = 10 * time.Minute
)

// Schedule divides time into epochs of Length from Origin. Grace is how long
// before an epoch starts and after it ends its key is still accepted; it must
// be less than half of Length so that at most three epochs (previous,
// current, next) are accepted at once.
type Schedule struct {
	Origin time.Time
	Length time.Duration
	Grace  time.Duration
}

// DefaultSchedule is the network-wide schedule nodes use unless configured
// otherwise. All nodes of one network must agree on it.
func DefaultSchedule() Schedule {
	return Schedule{Origin: time.Unix(0, 0).UTC(), Length: DefaultEpochLength, Grace: DefaultGrace}
}

// Validate checks that the schedule is usable.
func (s Schedule) Validate() error {
	if s.Length < time.Second {
		return fmt.Errorf("mixkey: schedule: epoch length %v, minimum 1s", s.Length)
	}
	if s.Grace < 0 || 2*s.Grace >= s.Length {
		return fmt.Errorf("mixkey: schedule: grace %v must be at least 0 and less than half the epoch length %v", s.Grace, s.Length)
	}
	return nil
}

// Epoch returns the epoch containing t. Times before Origin are in epoch 0.
func (s Schedule) Epoch(t time.Time) uint64 {
	d := t.Sub(s.Origin)
	if d <= 0 {
		return 0
	}
	return uint64(d / s.Length)
}

// Start returns the first instant of epoch e.
func (s Schedule) Start(e uint64) time.Time {
	return s.Origin.Add(time.Duration(e) * s.Length)
}

// End returns the first instant after epoch e.
func (s Schedule) End(e uint64) time.Time { return s.Start(e + 1) }

// ValidFrom is when epoch e's key starts to be accepted: its start less the
// grace window.
func (s Schedule) ValidFrom(e uint64) time.Time { return s.Start(e).Add(-s.Grace) }

// ValidUntil is the first instant epoch e's key is no longer accepted: its
// end plus the grace window.
func (s Schedule) ValidUntil(e uint64) time.Time { return s.End(e).Add(s.Grace) }

// Accepted reports whether a key of epoch e is accepted at t.
func (s Schedule) Accepted(e uint64, t time.Time) bool {
	return !t.Before(s.ValidFrom(e)) && t.Before(s.ValidUntil(e))
}

// AcceptedEpochs returns the epochs whose keys are accepted at t, oldest
// first: the current epoch, and the previous or next one within the grace
// window of a boundary.
func (s Schedule) AcceptedEpochs(t time.Time) []uint64 {
	cur := s.Epoch(t)
	out := make([]uint64, 0, 3)
	if cur > 0 && s.Accepted(cur-1, t) {
		out = append(out, cur-1)
	}
	out = append(out, cur)
	if s.Accepted(cur+1, t) {
		out = append(out, cur+1)
	}
	return out
}

// ErrNoKey means a ring holds no key for the epoch asked for.
var ErrNoKey = errors.New("mixkey: no key for epoch")
