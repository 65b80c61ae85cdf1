// Package config owns the daemon's configuration: it decodes config.hcl with
// hashicorp/hcl/v2 into typed structs and layers the environment and
// command-line flags on top with knadh/koanf/v2.
//
// # Schema
//
//	data_dir   = "data"            # string; default $ONEMFIVE_HOME or ~/.onemfive
//	plugin_dir = "bin/plugins"     # string; default "plugins" next to the executable
//	mancon     = "HIGH"            # LOW MEDIUM HIGH VERYHIGH EXTREME NEO; default HIGH
//	log_level  = "info"            # trace debug info warn error; default info
//	api {
//	  listen       = "127.0.0.1:2018" # default 127.0.0.1:2018
//	  allow_remote = false            # see below
//	}
//	plugin "direct" {                # repeated, one per plugin, names unique
//	  enabled = true                 # optional, default true; read by the host
//	  listen  = "127.0.0.1:4018"     # everything else belongs to the plugin
//	}
//
// # Guarantees
//
//   - Decoding never goes through JSON or any other re-encoding: every problem
//     carries the file:line:col where it is. Syntax errors are reported alone
//     (a broken file cannot be checked further with any confidence); otherwise
//     every problem in the file, the environment and the flags is reported at
//     once, in one *Error.
//   - Unknown top-level keys and blocks, and unknown keys inside api, are
//     errors. Values must have the declared type exactly (no "42" for a number
//     or "true" for a bool).
//   - A plugin block's body is not validated here. The host passes it to the
//     plugin as base.Config{Filename, Start, Body}: the source bytes between
//     the braces and the position of the first of them, so the plugin's own
//     decode (base.Config.Decode) reports errors at their real place in this
//     file. The host's `enabled` attribute is blanked out of Body (replaced by
//     spaces, newlines kept) so the plugin never sees it and every other
//     position is unchanged.
//   - Relative data_dir and plugin_dir in a file are resolved against the
//     file's directory; relative values from the environment or flags against
//     the current directory. The embedded default (Default, or Load with an
//     empty path) counts as a file in the current directory. Returned paths
//     are absolute.
//   - Precedence: flag > environment > file > default. An invalid environment
//     variable or flag is an error naming it, even when a higher layer
//     overrides it. Empty environment variables count as unset.
//   - api.listen must be host:port with a loopback host (127.0.0.0/8, ::1 or
//     localhost) unless api.allow_remote = true: the local API is how apps on
//     this machine send and receive as this node, and it must not be reachable
//     from the network by accident.
//
// The package keeps no global state; Load, Parse and Default are safe for
// concurrent use, but they read the process environment (unless
// Overrides.IgnoreEnv) and the flag set the caller passes.
package config
