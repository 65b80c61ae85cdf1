// Command onemfive-transport-veil is a test transport: the direct TCP
// transport under another name ("veil", declared an anonymous network by
// the test's policy) that reports itself blocked while the file named by
// $VEIL_BLOCK_FILE exists. It lets a real-process test drive ManCon
// escalation without a censor.
package main

import (
	"context"
	"os"
	"time"

	"github.com/onemfive/onemfive/plugins/direct/direct"
	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
)

type veil struct{ *direct.Transport }

func (v veil) Info(ctx context.Context) (base.Info, error) {
	info, err := v.Transport.Info(ctx)
	info.Name = "veil"
	return info, err
}

func (v veil) Start(ctx context.Context, h transport.Host) ([]string, error) {
	addrs, err := v.Transport.Start(ctx, h)
	if err != nil {
		return nil, err
	}
	go watch(os.Getenv("VEIL_BLOCK_FILE"), h)
	return addrs, nil
}

// watch reports blocked while the file exists, ready when it is gone.
func watch(path string, h transport.Host) {
	if path == "" {
		return
	}
	blocked := false
	for range time.Tick(100 * time.Millisecond) {
		_, err := os.Stat(path)
		now := err == nil
		if now == blocked {
			continue
		}
		blocked = now
		if blocked {
			h.Event(transport.Event{Time: time.Now(), State: transport.StateBlocked, Progress: 100,
				Phase: "blocked", Reason: "connections reset (test block file present)"})
		} else {
			h.Event(transport.Event{Time: time.Now(), State: transport.StateReady, Progress: 100, Phase: "ready", Summary: "unblocked"})
		}
	}
}

func main() { sdk.ServeTransport(veil{direct.New()}) }
