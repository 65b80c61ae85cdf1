package daemon

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestLifecycleOrderAndUnwind(t *testing.T) {
	var got []string
	mk := func(name string, fail bool) step {
		return step{
			name: name,
			start: func(context.Context) error {
				got = append(got, "start "+name)
				if fail {
					return errors.New("boom")
				}
				return nil
			},
			stop: func(context.Context) error { got = append(got, "stop "+name); return nil },
		}
	}
	l := &lifecycle{steps: []step{mk("a", false), mk("b", false), mk("c", true), mk("d", false)}}
	err := l.start(context.Background())
	if err == nil || !errors.Is(err, err) || err.Error() == "" {
		t.Fatal("expected failure")
	}
	want := []string{"start a", "start b", "start c", "stop b", "stop a"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	got = nil
	l = &lifecycle{steps: []step{mk("a", false), mk("b", false)}}
	if err := l.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.stop(context.Background()); err != nil { // idempotent
		t.Fatal(err)
	}
	want = []string{"start a", "start b", "stop b", "stop a"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}
