// Package ports picks free loopback ports that stay free: ports below the
// kernel's ephemeral range, which it never hands out on its own (not as
// the source port of an outgoing connection, not for a listen on port 0).
//
// A test that restarts a daemon on the port it had (a router, a transport
// whose address peers remember) needs that: a port from the ephemeral
// range can be taken, between the stop and the restart, by any of the
// many outgoing connections that other daemons in the same namespace
// make, and the restart then fails with "address already in use".
package ports
