// Command onemfive is the command-line client of the onemfive daemon: it
// shows status, sends and receives envelopes, shares and adds peer records
// through the local API, and installs plugins into a plugin directory.
//
//	onemfive [--data-dir D] [--api ADDR] [--token T] COMMAND [flags] [args]
//
// The daemon's address and token are read from <data dir>/api.addr and
// <data dir>/api.cookie unless --api and --token are given. The data
// directory defaults as the daemon's does: $ONEMFIVE_DATA_DIR, else
// $ONEMFIVE_HOME, else ~/.onemfive.
//
// Exit status: 0 on success, 1 when the command failed, 2 for a usage error.
package main
