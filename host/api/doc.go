// Package api is the daemon's local HTTP+JSON API, version 1. It owns the
// HTTP surface only: every request is answered by a Backend, which the
// daemon implements. The JSON types are those of sdk/client.
//
// Endpoints (all under /v1, all JSON unless noted):
//
//	GET  /v1/status                 client.Status
//	POST /v1/envelopes              envelope JSON in, 202 client.SendResult out
//	GET  /v1/inbox?after=N&limit=M  client.InboxPage, oldest first
//	GET  /v1/events?after=N         text/event-stream of client.Event
//	GET  /v1/node                   client.NodeRecord
//	GET  /v1/peers                  client.PeerList
//	POST /v1/peers                  client.PeerRequest in, client.PeerInfo out
//
// Errors are {"error": {"code": "...", "message": "..."}} with a matching
// HTTP status (client.ErrorBody).
//
// # Security
//
// The server is meant for 127.0.0.1 only (Server.AllowHosts widens check 1
// for a daemon deliberately listening elsewhere). Three checks run on every
// request, in this order:
//
//  1. Host must be a loopback name or address (localhost, 127.0.0.0/8, ::1),
//     else 403. This defeats DNS rebinding: a web page on evil.example whose
//     name is re-pointed at 127.0.0.1 makes the browser send
//     "Host: evil.example", which is refused.
//  2. A request with an Origin or Sec-Fetch-Site header is refused with 403.
//     Browsers add these to cross-site and script-initiated requests; the
//     API's clients (the CLI, embedded apps) are not browsers and never send
//     them. A page cannot read the cookie file, so the token alone already
//     stops it; this check is defence in depth: no web page should ever drive
//     this daemon, even one that somehow learned the token, so the API
//     answers no CORS and no browser at all.
//  3. Authorization must be "Bearer <token>", compared in constant time,
//     else 401. The token is 32 random bytes in hex that the daemon writes to
//     <data dir>/api.cookie (mode 0600) at every start, like Tor's control
//     cookie: whoever can read the data directory may use the API, nobody
//     else can, and a restart revokes old tokens.
//
// # Event stream
//
// GET /v1/events subscribes to the Backend first, then replays the inbox
// after N (or after the Last-Event-ID header, which wins), then streams live
// events. Live envelope events with a sequence number the replay already
// sent are skipped, and a live envelope event that skips ahead triggers a
// replay of the missing range, so a client sees every inbox envelope after N
// exactly once and in order. Envelope events carry "id: <seq>" so a
// reconnecting EventSource resumes where it left off; other events carry no
// id and are live only. A comment line is sent every Heartbeat so idle
// connections stay open and dead ones are noticed.
//
// # Lifecycle
//
// Construct a Server literal, call Serve with a listener (port 0 works; the
// actual address is written to <data dir>/api.addr), and Shutdown to stop:
// Shutdown ends open event streams, waits for requests in flight, and removes
// api.addr.
package api
