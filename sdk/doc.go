// Package sdk is what a onemfive plugin's main calls, and what the host uses
// to talk to plugin processes.
//
// A plugin binary's main is one line:
//
//	func main() { sdk.ServeTransport(tor.New()) }   // or sdk.ServeService(...)
//
// ServeTransport and ServeService serve the plugin over hashicorp/go-plugin
// gRPC (go-plugin's AutoMTLS applies when the host enables it), log JSON
// hclog lines to stderr for the host to re-level, and exit when the host
// process goes away (a parent watchdog; go-plugin alone would leave the
// plugin running).
//
// The host side builds a plugin.ClientConfig with Handshake and PluginSet,
// and turns the dispensed values into the contract interfaces with
// DispenseBase, DispenseTransport and DispenseService. Every error those
// clients return because the plugin process died wraps ErrPluginGone.
//
// Two versions are kept apart: Handshake.ProtocolVersion covers the framing
// only; APIVersion is the plugin API major the host negotiates from
// base.Info.APIVersions.
//
// The wire contract (sdk/internal/pb) and its adapters (sdk/internal/wire)
// are internal: nothing generated appears in this package's signatures.
package sdk
