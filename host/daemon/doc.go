// Package daemon wires the host's components together: store, identity,
// bus, courier, plugin supervisor and local API. Start runs a fixed list of
// named steps in order and, if one fails, undoes the ones already done in
// reverse; Shutdown undoes them all in reverse. The order is the contract:
//
//	datadir → store → identity → policy → bus → courier → plugins → api
//
// so that nothing accepts work before what it hands the work to is running,
// and on shutdown the API stops taking requests first and the store closes
// last, after everything that writes to it has stopped.
package daemon
