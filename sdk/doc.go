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
// The host side builds a plugin.ClientConfig with Handshake, PluginSet and
// GRPCDialOptions (and, when something sits between host and plugin, sets
// ParentPIDEnv in the plugin's environment), then turns the dispensed
// values into the contract interfaces with DispenseBase, DispenseTransport
// and DispenseService:
//
//	c := plugin.NewClient(&plugin.ClientConfig{
//		HandshakeConfig:  sdk.Handshake,
//		Plugins:          sdk.PluginSet(),
//		GRPCDialOptions:  sdk.GRPCDialOptions(),
//		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
//		Cmd:              exec.Command(path),
//		AutoMTLS:         true,
//	})
//	rpc, err := c.Client()
//	b, err := sdk.DispenseBase(rpc)   // Info, negotiate APIVersion, Configure
//	t, err := sdk.DispenseTransport(rpc)
//
// Every error those clients return because the plugin process died wraps
// ErrPluginGone; go-plugin never restarts a plugin, so the host makes a new
// client. Transport packets cross on one batched stream per started
// transport: concurrent Sends share messages, and a host that passes
// several packets per Send (as a router flushing a queue does) gets the
// best rate; see sdk/internal/wire for the ordering and backpressure rules.
//
// Two versions are kept apart: Handshake.ProtocolVersion covers the framing
// only; APIVersion is the plugin API major the host negotiates from
// base.Info.APIVersions.
//
// The wire contract (sdk/internal/pb) and its adapters (sdk/internal/wire)
// are internal: nothing generated appears in this package's signatures.
package sdk
