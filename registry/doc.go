// Package registry finds, installs, verifies and removes plugins in a plugin
// directory, and negotiates the plugin API version with them.
//
// # On-disk format
//
// A plugin directory holds, for each installed plugin NAME of kind KIND
// (transport or service):
//
//	onemfive-KIND-NAME       the executable, mode 0755
//	NAME.plugin.json         its manifest
//
// The manifest is JSON:
//
//	{
//	  "name": "direct",
//	  "kind": "transport",
//	  "binary": "onemfive-transport-direct",   // relative to the directory
//	  "sha256": "<64 hex digits, recorded at install>",
//	  "installed": "2025-01-02T03:04:05Z",
//	  "api_versions": [1]                      // optional, as reported at install
//	}
//
// Only manifests make plugins: a file without a manifest is never listed,
// verified or started, however it is named. NAME is lowercase letters, digits
// and inner hyphens (at most 64), so it is safe in file names and matches the
// plugin "NAME" blocks of config.hcl.
//
// # Guarantees
//
//   - Install writes the binary and the manifest each atomically (a temporary
//     file in the same directory, fsync, rename), so a crash leaves either the
//     old or the new file, never a torn one. The binary is replaced before the
//     manifest; in between, the old manifest's checksum does not match and
//     Verify refuses the plugin (fails closed).
//   - Verify recomputes the sha256 of the binary; the daemon calls it before
//     every start, and additionally hands Manifest.SecureConfig to go-plugin,
//     which checks the same hash on the file it is about to execute.
//   - List reports a malformed manifest as an error naming the file without
//     hiding the good ones.
//   - A Registry holds no global state; several may exist. Its methods are
//     safe for concurrent use; Install and Remove are serialised within one
//     Registry. Separate processes changing one directory at once do not
//     corrupt it (atomic renames), but the last writer wins.
package registry
