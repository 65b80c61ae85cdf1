// Package client is the Go client for the onemfive daemon's local API (v1),
// and the JSON types that API speaks. Applications embed it; the onemfive CLI
// is built on it.
//
// The API listens on 127.0.0.1 only and wants a bearer token that the daemon
// writes, at every start, to <data dir>/api.cookie (mode 0600). The daemon
// also writes the address it actually listens on to <data dir>/api.addr, so
// FromDataDir finds a running daemon without configuration:
//
//	c, err := client.FromDataDir(client.DefaultDataDir())
//	st, err := c.Status(ctx)
//
// Every method takes a context first; cancelling it aborts the request. A
// response with an error status decodes to *Error, which carries the HTTP
// status and the server's message.
//
// # Events and resuming
//
// Events opens the server-sent event stream. Envelope events carry the inbox
// sequence number of the envelope (Event.Seq); sequence numbers only grow.
// The server first replays the inbox after the given sequence number and then
// streams live events, with no gap and no duplicate between the two. The
// stream ends when the daemon stops, the connection breaks or ctx is done;
// reconnecting is the caller's business. Remember the last envelope Seq you
// handled and pass it as after when you reconnect:
//
//	var after uint64 // 0 replays the whole inbox; Status().InboxLastSeq means "only new"
//	for ctx.Err() == nil {
//		events, errc := c.Events(ctx, after)
//		for ev := range events {
//			if ev.Type == client.EventEnvelope {
//				handle(ev.Envelope)
//				after = ev.Seq
//			}
//		}
//		if err := <-errc; err != nil && ctx.Err() == nil {
//			log.Print(err)
//			time.Sleep(time.Second) // back off before reconnecting
//		}
//	}
//
// Events of other types (transport, plugin, delivery, mancon) are live only:
// they are not replayed after a reconnect.
//
// Concurrency: a Client is safe for concurrent use by multiple goroutines.
package client
