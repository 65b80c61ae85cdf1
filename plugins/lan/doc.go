// Command onemfive-transport-lan is the lan transport plugin: direct links
// over any local IP link (Ethernet, WiFi, WiFi Direct, ad-hoc WiFi,
// Bluetooth PAN) with serverless peer discovery. main is one call into the
// SDK; the implementation, its wire formats and its guarantees live in
// package lan.
package main
