// Package service is the contract of a service plugin: something that handles
// envelopes addressed to it (service + operation) and may send envelopes of
// its own back onto the host bus through the Host callback.
//
// Lifecycle: Info, Configure, Start (with the Host), Handle (concurrently),
// Stop.
package service
