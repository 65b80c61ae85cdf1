// Command onemfive-transport-i2p is the I2P transport plugin. main is one
// call into the SDK; the implementation, its wire format and its
// guarantees live in package i2p, and the i2pd helpers it shares with the
// private test network in package i2pd.
package main
