package daemon_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/sdk/envelope"
)

func TestServicePlugin(t *testing.T) {
	a := newHost(t, "A", hostOpts{})
	b := newHost(t, "B", hostOpts{extra: []hosttest.Plugin{{Name: "echo", Binary: echoPlugin(t)}}})
	a.Start()
	b.Start()
	a.WaitPlugin("direct", "ready", 30*time.Second)
	b.WaitPlugin("direct", "ready", 30*time.Second)
	if p := b.WaitPlugin("echo", "ready", 30*time.Second); p.Kind != "service" || p.PID == 0 {
		t.Fatalf("echo plugin status %+v", p)
	}
	hosttest.Introduce(t, a.Host, b.Host)
	ctx := context.Background()

	// A local application calls the service; the reply lands in the inbox,
	// and the service's own envelope (sent through the host callback) too.
	_, err := b.C.Send(ctx, &envelope.Envelope{Kind: envelope.KindService, To: "service:echo", Operation: "announce", Payload: []byte("local")})
	if err != nil {
		t.Fatal(err)
	}
	items := b.WaitInbox(2, 20*time.Second)
	var got []string
	for _, it := range items {
		if it.From != "service:echo" {
			t.Errorf("item from %q, want service:echo", it.From)
		}
		got = append(got, string(it.Envelope.Payload))
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"announced", "echo: local"}) {
		t.Fatalf("inbox payloads %q", got)
	}

	// A remote node calls B's service by name; the reply travels back.
	_, err = a.C.Send(ctx, &envelope.Envelope{Kind: envelope.KindService, To: b.ID, Service: "echo", Payload: []byte("remote")})
	if err != nil {
		t.Fatal(err)
	}
	back := a.WaitInbox(1, 30*time.Second)
	if string(back[0].Envelope.Payload) != "echo: remote" || back[0].From != b.ID {
		t.Fatalf("A got %+v", back[0])
	}

	// A service that is not configured is refused at once.
	if _, err := b.C.Send(ctx, &envelope.Envelope{Kind: envelope.KindService, To: "service:nope"}); err == nil {
		t.Fatal("send to an unknown service accepted")
	}
}
