// Package hosttest runs real onemfived processes for end-to-end tests: it
// builds the daemon, the CLI and plugin binaries once per test process,
// gives each host its own data and plugin directories and config.hcl, and
// offers waits on the local API (plugin states, inbox contents).
//
// Everything it starts listens on 127.0.0.1 only; `make test` runs the
// tests inside a network namespace that has only loopback. Call Cleanup
// from TestMain to remove the built binaries.
package hosttest
