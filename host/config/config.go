package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/onemfive/onemfive"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/envelope"
)

// EmbeddedFilename is how the embedded default configuration is named in
// error messages.
const EmbeddedFilename = "<embedded config.hcl>"

// Defaults for keys absent from every layer.
const (
	DefaultListen   = "127.0.0.1:2018"
	DefaultLogLevel = "info"
	DefaultManCon   = envelope.HIGH
)

// Config is the daemon's configuration after all layers are applied.
type Config struct {
	// DataDir is where the daemon keeps its state. Absolute.
	DataDir string
	// PluginDir is where installed plugins and their manifests are. Absolute.
	PluginDir string
	// Policies are the ManCon policy files (absolute glob patterns, in
	// order); empty means the embedded default policy.
	Policies []string
	// ManCon is the node's base maneuvering condition; never ManConUnset.
	ManCon envelope.ManCon
	// LogLevel is one of trace, debug, info, warn, error (lowercase).
	LogLevel string
	// API configures the local API.
	API API
	// Plugins are the plugin blocks, in file order, names unique.
	Plugins []Plugin
	// Onion configures the onion layer (host/overlay).
	Onion Onion
	// Web configures the web proxy (host/web).
	Web Web
}

// Web configures the local web proxy through which applications make web
// requests routed by the ManCon policy.
type Web struct {
	// Listen is the proxy's loopback host:port; empty means no proxy (the
	// shipped config.hcl sets 127.0.0.1:2019).
	Listen string
	// DialTimeout bounds each route's attempt; 0 means host/web's default
	// (60 s).
	DialTimeout time.Duration
	// Relay makes this node fetch web requests for peers whose policy
	// goes through a peer with a network this node has (like a Tor exit,
	// with this node's own address). Default false.
	Relay bool
	// RelayNetworks are the networks this node dials for peers. Default
	// tor and i2p: a relay that dialled over direct links would let peers
	// reach its own machine and local network.
	RelayNetworks []string
}

// DefaultRelayNetworks is web.relay_networks' default.
var DefaultRelayNetworks = []string{"tor", "i2p"}

// Onion configures the host's onion layer.
type Onion struct {
	// Enabled relays packets for others and routes this node's messages
	// over onion paths where the policy asks for hops. Default true.
	Enabled bool
	// ClientOnly keeps this node off other nodes' paths (its record
	// publishes no mix keys).
	ClientOnly bool
	// Publish makes the node reachable by id through a lease set. Default
	// true.
	Publish bool
	// Guards are node ids used as the first relay of every path and the
	// last relay of every reply route; empty means one guard picked
	// automatically (kept across restarts, replaced when it is down).
	Guards []string
	// LeaseLifetime is how long a lease set is valid; 0 means the
	// overlay's default (10 minutes).
	LeaseLifetime time.Duration
	// ProbeInterval is how often a loop probe checks a relay; 0 means the
	// overlay's default (5 s).
	ProbeInterval time.Duration
	// ObserveLog, when set, is a file (absolute) that receives one JSON
	// line per packet this node relays or receives: test mode.
	ObserveLog string
	// FallbackDirect sends over a direct route, with a logged downgrade
	// event, when the policy asks for onion hops and too few relays are
	// known (a new network of two or three nodes). Only over networks of
	// the anonymous class (tor, i2p), which hide this node's address
	// anyway, unless FallbackClearnet is set too. False queues instead.
	FallbackDirect bool
	// FallbackClearnet lets that downgrade use networks that show this
	// node's IP address to the destination (direct, lan, https). Default
	// false.
	FallbackClearnet bool
}

// DefaultOnion is the onion block's default.
func DefaultOnion() Onion {
	return Onion{Enabled: true, Publish: true, FallbackDirect: true}
}

// API configures the local API.
type API struct {
	// Listen is host:port; loopback unless AllowRemote.
	Listen string
	// AllowRemote permits a non-loopback Listen address.
	AllowRemote bool
}

// Plugin is one plugin "NAME" { ... } block.
type Plugin struct {
	Name    string
	Enabled bool
	// Block is the block body for the plugin to decode, without the host's
	// `enabled` attribute. Block.DataDir is DataDir/plugins/NAME; the daemon
	// creates it before handing Block to the plugin.
	Block base.Config
}

// Plugin returns the block for the named plugin.
func (c *Config) Plugin(name string) (Plugin, bool) {
	for _, p := range c.Plugins {
		if p.Name == name {
			return p, true
		}
	}
	return Plugin{}, false
}

// Overrides are the layers above the file.
type Overrides struct {
	// Flags is a flag set on which RegisterFlags was called, already parsed.
	// Only flags the user set count. Nil: no flag layer.
	Flags *pflag.FlagSet
	// IgnoreEnv skips the environment: neither ONEMFIVE_* overrides nor
	// ONEMFIVE_HOME are read. For tests and tools that must be reproducible.
	IgnoreEnv bool
}

// Error is every problem found in a configuration. Each diagnostic with a
// subject is printed as file:line:col.
type Error struct {
	Diagnostics hcl.Diagnostics
}

func (e *Error) Error() string {
	var b strings.Builder
	errs := 0
	for _, d := range e.Diagnostics {
		if d.Severity == hcl.DiagError {
			errs++
		}
	}
	if errs == 1 {
		b.WriteString("config: ")
	} else {
		fmt.Fprintf(&b, "config: %d problems:\n", errs)
	}
	first := true
	for _, d := range e.Diagnostics {
		if d.Severity != hcl.DiagError {
			continue
		}
		if !first {
			b.WriteString("\n")
		}
		if errs > 1 {
			b.WriteString("  ")
		}
		first = false
		b.WriteString(formatDiag(d))
	}
	return b.String()
}

// Unwrap exposes the hcl.Diagnostics (errors.As works on them).
func (e *Error) Unwrap() error { return e.Diagnostics }

func formatDiag(d *hcl.Diagnostic) string {
	msg := d.Summary
	if d.Detail != "" {
		msg += "; " + d.Detail
	}
	if d.Subject == nil {
		return msg
	}
	s := d.Subject.Start
	return fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, s.Line, s.Column, msg)
}

// Load reads the configuration file at path and applies overrides. An empty
// path means the embedded default (see Default), with overrides applied.
func Load(path string, overrides Overrides) (*Config, error) {
	if path == "" {
		return Parse(onemfive.DefaultConfig, EmbeddedFilename, overrides)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(src, path, overrides)
}

// Default returns the embedded default configuration (the shipped
// config.hcl, as onemfive.DefaultConfig) with the environment layered on
// top. Its relative paths resolve against the current directory.
func Default() (*Config, error) {
	return Load("", Overrides{})
}

// Parse decodes src, named filename in messages, and applies overrides.
// Relative paths in src resolve against filename's directory. On failure the
// error is an *Error listing every problem.
func Parse(src []byte, filename string, overrides Overrides) (*Config, error) {
	baseDir := filepath.Dir(filename)
	if filename == EmbeddedFilename {
		baseDir = "."
	}
	fc, diags := decodeFile(src, filename)
	if fc == nil { // syntax errors: nothing more can be checked
		return nil, &Error{Diagnostics: diags}
	}
	cfg := &Config{
		ManCon:   DefaultManCon,
		LogLevel: DefaultLogLevel,
		API:      API{Listen: DefaultListen, AllowRemote: fc.allowRemote},
		Plugins:  fc.plugins,
		Onion:    fc.onion,
		Web:      fc.web,
	}
	if cfg.Web.RelayNetworks == nil {
		cfg.Web.RelayNetworks = slices.Clone(DefaultRelayNetworks)
	}
	if cfg.Onion.ObserveLog != "" {
		cfg.Onion.ObserveLog = absUnder(baseDir, cfg.Onion.ObserveLog)
	}
	if fc.dataDir != "" {
		cfg.DataDir = absUnder(baseDir, fc.dataDir)
	}
	for _, p := range fc.policies {
		cfg.Policies = append(cfg.Policies, absUnder(baseDir, p))
	}
	if fc.pluginDir != "" {
		cfg.PluginDir = absUnder(baseDir, fc.pluginDir)
	}
	if fc.mancon != envelope.ManConUnset {
		cfg.ManCon = fc.mancon
	}
	if fc.logLevel != "" {
		cfg.LogLevel = fc.logLevel
	}
	if fc.listen != "" {
		cfg.API.Listen = fc.listen
	}

	diags = append(diags, applyOverrides(cfg, overrides)...)
	if !diags.HasErrors() {
		diags = append(diags, fillDefaults(cfg, overrides)...)
	}
	if diags.HasErrors() {
		return nil, &Error{Diagnostics: diags}
	}
	for i := range cfg.Plugins {
		cfg.Plugins[i].Block.DataDir = filepath.Join(cfg.DataDir, "plugins", cfg.Plugins[i].Name)
	}
	return cfg, nil
}

// absUnder resolves p against dir and makes it absolute (best effort: if the
// working directory is gone, the cleaned relative path is kept).
func absUnder(dir, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// fillDefaults sets data_dir and plugin_dir when no layer did.
func fillDefaults(cfg *Config, o Overrides) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if cfg.DataDir == "" {
		home := ""
		if !o.IgnoreEnv {
			home = os.Getenv("ONEMFIVE_HOME")
		}
		if home != "" {
			cfg.DataDir = absUnder(".", home)
		} else if h, err := os.UserHomeDir(); err == nil {
			cfg.DataDir = filepath.Join(h, ".onemfive")
		} else {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "no data_dir",
				Detail:   fmt.Sprintf("data_dir is not set and there is no home directory to default to (%v); set data_dir, ONEMFIVE_DATA_DIR or ONEMFIVE_HOME", err),
			})
		}
	}
	if cfg.PluginDir == "" {
		if exe, err := os.Executable(); err == nil {
			cfg.PluginDir = filepath.Join(filepath.Dir(exe), "plugins")
		} else {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "no plugin_dir",
				Detail:   fmt.Sprintf("plugin_dir is not set and the executable's directory is unknown (%v); set plugin_dir or ONEMFIVE_PLUGIN_DIR", err),
			})
		}
	}
	return diags
}
