// Package supervisor runs plugin processes: it verifies each plugin binary
// against the sha256 recorded at install (registry), starts it over
// go-plugin gRPC with AutoMTLS, asks its Info, negotiates the plugin API
// version, configures it, starts its role (transport or service), watches
// its health, and restarts a crashed plugin with exponential backoff.
//
// While a plugin is down every call routed to it fails with an error
// wrapping ErrPluginGone (the same sentinel as sdk.ErrPluginGone), which the
// router treats as "use another network or retry later". Plugins never
// outlive the host: the child gets PR_SET_PDEATHSIG and the SDK's watchdog
// exits when the parent pid goes away.
//
// Concurrency: all exported methods are safe for concurrent use. Start
// returns once every plugin's first launch attempt has finished.
package supervisor
