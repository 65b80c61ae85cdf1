// Package i2pd finds, configures and queries the i2pd router: it locates
// an i2pd executable and refuses one older than MinVersion (Debian 12's
// 2.45 cannot form a network on loopback), renders i2pd.conf from flat
// "section.key" options, and speaks i2pd's I2PControl JSON-RPC (TLS on
// 127.0.0.1) for peer and tunnel figures.
//
// It never imports the SAM library (whose package init does network I/O),
// so the private test network and the CLI can use it; the i2p transport
// plugin uses it too.
//
// Guarantees: every network call takes a context and is bounded by it;
// Find reports the version it found and the install script to run when it
// refuses one; Render is deterministic (sorted), so equal options give
// byte-equal files.
package i2pd
