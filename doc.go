// Package onemfive is the root of the onemfive module. It holds no logic:
// it only embeds the shipped default configuration (config.hcl, next to this
// file) as DefaultConfig, so that the daemon and its tests share one copy of
// it and the file users read is exactly the one the binary falls back to.
//
// The daemon lives in host/, plugin authors import sdk/, and the plugins
// themselves are in plugins/. See README.md and config.hcl.
package onemfive
