package sdk

import (
	"fmt"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/internal/wire"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// APIVersion is the plugin API major this SDK speaks. Plugins list it in
// base.Info.APIVersions; the host picks the highest version both speak.
const APIVersion = 1

// Handshake is the go-plugin handshake of onemfive plugins. Its
// ProtocolVersion covers framing only and changes only if the go-plugin
// transport itself does; API evolution goes through APIVersion.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "ONEMFIVE_PLUGIN",
	MagicCookieValue: "8c1f4b2e-onemfive-plugin-v1",
}

// Plugin names in a PluginSet, and what a host dispenses.
const (
	PluginBase      = "base"
	PluginTransport = "transport"
	PluginService   = "service"
)

// ErrPluginGone is wrapped by every error a host side client returns because
// its plugin process died or its connection closed. The host's router acts
// on it alone.
var ErrPluginGone = wire.ErrPluginGone

// ErrUnsupported is wrapped when a plugin lacks an optional ability, such as
// transport.Dialer.
var ErrUnsupported = wire.ErrUnsupported

// TransportClient is a transport plugin seen from the host: the role
// interface plus the optional Dialer ability (whose Dial fails with an error
// wrapping ErrUnsupported when the plugin's transport cannot dial).
type TransportClient interface {
	transport.Transport
	transport.Dialer
	// Announcer: Announce fails with an error wrapping ErrUnsupported
	// when the plugin's transport does not discover peers.
	transport.Announcer
	// DroppedEvents reports how many status events the plugin dropped
	// because the host did not take them in time.
	DroppedEvents() uint64
}

// GRPCDialOptions returns what a host puts in plugin.ClientConfig's
// GRPCDialOptions: receive buffers sized for packet batches. Plugins work
// without it, with more memory traffic per batch.
func GRPCDialOptions() []grpc.DialOption { return wire.DialOptions() }

// PluginSet is the host's plugin.ClientConfig.Plugins: "base", "transport"
// and "service". Dispense "base" first, read Info, then dispense the kind.
func PluginSet() plugin.PluginSet {
	return plugin.PluginSet{
		PluginBase:      &wire.BasePlugin{},
		PluginTransport: &wire.TransportPlugin{},
		PluginService:   &wire.ServicePlugin{},
	}
}

// DispenseBase returns the base contract of a started plugin client.
func DispenseBase(c plugin.ClientProtocol) (base.Plugin, error) {
	return dispense[base.Plugin](c, PluginBase)
}

// DispenseTransport returns the transport of a started plugin client. Its
// Info works before Configure.
func DispenseTransport(c plugin.ClientProtocol) (TransportClient, error) {
	return dispense[TransportClient](c, PluginTransport)
}

// DispenseService returns the service of a started plugin client.
func DispenseService(c plugin.ClientProtocol) (service.Service, error) {
	return dispense[service.Service](c, PluginService)
}

func dispense[T any](c plugin.ClientProtocol, name string) (T, error) {
	var zero T
	raw, err := c.Dispense(name)
	if err != nil {
		return zero, fmt.Errorf("sdk: dispense %s: %w", name, err)
	}
	v, ok := raw.(T)
	if !ok {
		return zero, fmt.Errorf("sdk: dispense %s: got %T (is PluginSet() the client's plugin set?)", name, raw)
	}
	return v, nil
}
