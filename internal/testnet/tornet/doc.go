// Package tornet generates and runs a private Tor network on 127.0.0.1:
// one directory authority, three or more relays and, optionally, an obfs4
// bridge, all real tor processes started from a torrc this package writes.
// Tests use it to run the tor transport plugin against real tor; the
// `onemfive testnet tor up|down|env` command runs it for people.
//
// Guarantees:
//   - Start refuses to run tor unless the process is in a network
//     namespace whose only interface is loopback (Isolated), so a mistake in
//     a torrc can never reach the public Tor network. Every DirAuthority
//     line it writes points at 127.0.0.1 and every torrc sets
//     TestingTorNetwork 1 (PublicAuthorities reports violations).
//   - Start returns once the authority's consensus lists every relay as
//     Running (and, with a bridge, once the bridge has written its obfs4
//     line), or fails and stops whatever it started.
//   - Stop kills every process Start started, by pid, and waits for them.
//     Processes are started with a parent-death signal unless Detach is
//     set, so a test binary that dies does not leave tor behind.
//   - ClientTorrc holds the lines a tor client needs to join the network;
//     BridgeLines the lines to join it through the obfs4 bridge only.
package tornet
