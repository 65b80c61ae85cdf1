package memnet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/memnet"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

func TestConformance(t *testing.T) {
	var network memnet.Network
	n := 0
	transporttest.Run(t, func(t *testing.T) transport.Transport {
		n++
		tr := network.NewTransport(fmt.Sprintf("n%d", n))
		if err := tr.Configure(context.Background(), base.Config{}); err != nil {
			t.Fatal(err)
		}
		return tr
	})
}

func TestZeroValueTransportReachesItself(t *testing.T) {
	var tr memnet.Transport
	var rec transporttest.Recorder
	addrs, err := tr.Start(context.Background(), &rec)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop(context.Background())
	if len(addrs) != 1 || addrs[0] != "mem:mem" {
		t.Fatalf("addrs = %q, want [mem:mem]", addrs)
	}
	data := []byte("hello")
	if err := tr.Send(context.Background(), []transport.Packet{{Addr: addrs[0], Data: data}}); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // Send copied the payload.
	got := rec.WaitPackets(t, 1, transporttest.Timeout)
	if string(got[0].Data) != "hello" || got[0].Addr != "mem:mem" {
		t.Fatalf("got %q from %q", got[0].Data, got[0].Addr)
	}
}

func TestUnknownAddressDroppedAndCounted(t *testing.T) {
	var network memnet.Network
	tr := network.NewTransport("a")
	var rec transporttest.Recorder
	if _, err := tr.Start(context.Background(), &rec); err != nil {
		t.Fatal(err)
	}
	defer tr.Stop(context.Background())
	pkts := []transport.Packet{{Addr: "mem:nobody", Data: []byte("1")}, {Addr: "mem:nobody", Data: []byte("2")}}
	if err := tr.Send(context.Background(), pkts); err != nil {
		t.Fatalf("Send to an unknown address: %v, want nil (datagram)", err)
	}
	if got := network.Dropped(); got != 2 {
		t.Fatalf("Dropped = %d, want 2", got)
	}
}

func TestEventsOrder(t *testing.T) {
	var network memnet.Network
	tr := network.NewTransport("a")
	var rec transporttest.Recorder
	if _, err := tr.Start(context.Background(), &rec); err != nil {
		t.Fatal(err)
	}
	if err := tr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(context.Background(), nil); !errors.Is(err, memnet.ErrStopped) {
		t.Fatalf("Send after Stop = %v, want ErrStopped", err)
	}
	var states []transport.State
	for _, ev := range rec.Events() {
		states = append(states, ev.State)
	}
	want := []transport.State{transport.StateStarting, transport.StateReady, transport.StateStopped}
	if len(states) != len(want) {
		t.Fatalf("states = %v, want %v", states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("states = %v, want %v", states, want)
		}
	}
}

func TestDuplicateNameRefused(t *testing.T) {
	var network memnet.Network
	var rec transporttest.Recorder
	a, b := network.NewTransport("x"), network.NewTransport("x")
	if _, err := a.Start(context.Background(), &rec); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(context.Background())
	if _, err := b.Start(context.Background(), &rec); !errors.Is(err, memnet.ErrAddressInUse) {
		t.Fatalf("second Start = %v, want ErrAddressInUse", err)
	}
}

func TestConfigureRejectsUnknownKeys(t *testing.T) {
	var tr memnet.Transport
	err := tr.Configure(context.Background(), base.Config{Filename: "c.hcl", Body: []byte(`bogus = 1`)})
	if err == nil {
		t.Fatal("Configure accepted an unknown key")
	}
}

func TestDialListen(t *testing.T) {
	var network memnet.Network
	l, err := network.Listen("mem:web")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	tr := network.NewTransport("client")
	c, err := tr.Dial(context.Background(), "mem:web")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v", buf, err)
	}
	l.Close()
	if _, err := tr.Dial(context.Background(), "mem:web"); !errors.Is(err, memnet.ErrConnRefused) {
		t.Fatalf("Dial after Close = %v, want ErrConnRefused", err)
	}
}
