package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IntRange is an inclusive range of counts; Min == Max for a fixed count.
type IntRange struct{ Min, Max int }

func (r IntRange) String() string {
	if r.Min == r.Max {
		return strconv.Itoa(r.Min)
	}
	return fmt.Sprintf("%d..%d", r.Min, r.Max)
}

// DurRange is an inclusive range of durations, picked at random per use;
// Min == Max for a fixed duration.
type DurRange struct{ Min, Max time.Duration }

// IsZero reports whether the range is exactly zero.
func (r DurRange) IsZero() bool { return r.Min == 0 && r.Max == 0 }

func (r DurRange) String() string {
	if r.Min == r.Max {
		return formatDuration(r.Min)
	}
	return formatDuration(r.Min) + ".." + formatDuration(r.Max)
}

// Budget is a latency budget: a range, or Wide when no bound applies.
type Budget struct {
	DurRange
	Wide bool
}

func (b Budget) String() string {
	if b.Wide {
		return "wide"
	}
	return b.DurRange.String()
}

const day = 24 * time.Hour

// parseDuration is time.ParseDuration plus a whole-number "d" (days) suffix
// for the long delays NEO needs; negative durations are rejected.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" && !strings.ContainsAny(n, "hmsuµn") {
		v, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (like \"500ms\", \"10s\", \"2h\" or \"90d\")", s)
		}
		return time.Duration(v) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like \"500ms\", \"10s\", \"2h\" or \"90d\")", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

func formatDuration(d time.Duration) string {
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	return d.String()
}

var errRangeOrder = errors.New("the minimum is larger than the maximum")

// parseDurRange parses "4s..10s" or a single "4s".
func parseDurRange(s string) (DurRange, error) {
	lo, hi, isRange := strings.Cut(s, "..")
	a, err := parseDuration(lo)
	if err != nil {
		return DurRange{}, err
	}
	if !isRange {
		return DurRange{a, a}, nil
	}
	b, err := parseDuration(hi)
	if err != nil {
		return DurRange{}, err
	}
	if a > b {
		return DurRange{}, fmt.Errorf("in %q %w", s, errRangeOrder)
	}
	return DurRange{a, b}, nil
}

// parseIntRange parses "3..12" or a single "3", each bound in [lo, hi].
func parseIntRange(s string, lo, hi int) (IntRange, error) {
	a, b, isRange := strings.Cut(s, "..")
	if !isRange {
		b = a
	}
	x, err1 := strconv.Atoi(strings.TrimSpace(a))
	y, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return IntRange{}, fmt.Errorf("%q is not a count or a range like \"3..12\"", s)
	}
	if x < lo || y > hi {
		return IntRange{}, fmt.Errorf("%q is outside %d..%d", s, lo, hi)
	}
	if x > y {
		return IntRange{}, fmt.Errorf("in %q %w", s, errRangeOrder)
	}
	return IntRange{x, y}, nil
}
