// Package web is the daemon's front end for web requests: an HTTP proxy on
// loopback that any application can use (HTTP_PROXY / HTTPS_PROXY, a
// browser's proxy setting, curl -x). Each request is routed by the ManCon
// policy's web plan for its host: the plan's routes are tried in order,
// each by opening a stream over that route's network (Tor, I2P, ...)
// through the network's transport plugin; the first that connects carries
// the request. When every route fails the plan's on_failure decides: a
// "site down" answer (502) that says which routes were tried and why.
//
// Two request forms are served: CONNECT host:port (a byte tunnel, used for
// HTTPS, whose TLS runs end to end between the application and the site)
// and plain HTTP requests with an absolute URL, which the proxy forwards.
//
// Access needs the daemon's API token as the proxy password (Basic
// Proxy-Authorization; any user name). The user name, or the
// X-Onemfive-ManCon request header, may name a ManCon level for the
// request; the effective level is never below the node's (policies.Evaluate).
//
// Routes through a relay peer (via { peer_has ... }) go to the Router's
// RelayDialer: a onemfive peer that has the named network fetches, and the
// stream's bytes travel to it in envelopes over the step's network and
// onion hops (host/webrelay). A web step with onion hops and no via of its
// own ends at an exit peer the policy adds (policies.Relay.Exit), carried
// the same way; a step with several vias is a chain, each peer picking the
// next (webrelay.Hop). The on_failure action relay_via_peers goes to the
// Router's PeerRelayer.
package web
