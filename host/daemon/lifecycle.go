package daemon

import (
	"context"
	"errors"
	"fmt"
)

// step is one stage of start-up with its undo.
type step struct {
	name  string
	start func(ctx context.Context) error
	stop  func(ctx context.Context) error // may be nil
}

// lifecycle runs steps in order and undoes them in reverse.
type lifecycle struct {
	steps []step
	done  int // steps started successfully
	trace func(event, name string)
}

// start runs every step. On failure it stops the steps already started, in
// reverse, and returns the failure (joined with any undo errors).
func (l *lifecycle) start(ctx context.Context) error {
	for i, s := range l.steps {
		if l.trace != nil {
			l.trace("start", s.name)
		}
		if err := s.start(ctx); err != nil {
			err = fmt.Errorf("daemon: start %s: %w", s.name, err)
			return errors.Join(err, l.stop(ctx))
		}
		l.done = i + 1
	}
	return nil
}

// stop undoes the started steps in reverse order; it continues past errors
// and returns them joined.
func (l *lifecycle) stop(ctx context.Context) error {
	var errs []error
	for i := l.done - 1; i >= 0; i-- {
		s := l.steps[i]
		if l.trace != nil {
			l.trace("stop", s.name)
		}
		if s.stop != nil {
			if err := s.stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("daemon: stop %s: %w", s.name, err))
			}
		}
	}
	l.done = 0
	return errors.Join(errs...)
}
