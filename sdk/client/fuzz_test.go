package client_test

import (
	"bytes"
	"testing"

	"github.com/onemfive/onemfive/sdk/client"
)

// FuzzReadEvents: any byte stream either parses or fails with an error;
// it never panics, and every dispatched envelope event has the seq of its
// id line or of its payload.
func FuzzReadEvents(f *testing.F) {
	for _, s := range []string{
		"id: 1\nevent: envelope\ndata: {\"type\":\"envelope\",\"seq\":1}\n\n",
		": ping\n\n",
		"data: {\"type\":\"plugin\",\r\ndata: \"message\":\"x\"}\r\n\r\n",
		"id: 18446744073709551615\ndata: {\"type\":\"envelope\"}\n\n",
		"data: {\"type\":\"envelope\",\"envelope\":{\"seq\":3,\"envelope\":{\"payload\":\"aGk=\"}}}\n\n",
		"data\n\ndata:\n\n", "\r\r\n\n", "event: envelope\nid: x\ndata: {}\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = client.ReadEvents(bytes.NewReader(b), func(ev client.Event) error {
			if ev.Type == client.EventEnvelope && ev.Seq == 0 && ev.Envelope != nil && ev.Envelope.Seq != 0 {
				t.Fatalf("envelope event lost its seq: %+v", ev)
			}
			return nil
		})
	})
}
