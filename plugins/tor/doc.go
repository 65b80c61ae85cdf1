// Command onemfive-transport-tor is the Tor transport plugin. main is one
// call into the SDK; the implementation, its wire format and its
// guarantees live in package tor.
package main
