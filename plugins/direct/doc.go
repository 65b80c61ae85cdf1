// Command onemfive-transport-direct is the direct (plain TCP) transport
// plugin. main is one call into the SDK; the implementation, its wire
// format and its guarantees live in package direct.
package main
