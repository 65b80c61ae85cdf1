// Package pidfile records the processes a private test network started
// (one "pid name" line each in a file of the network's directory) and
// stops them again from another process: `onemfive testnet ... down` after
// `up` detached. A pid whose command line no longer names the network's
// directory belongs to someone else now and is left alone.
package pidfile
