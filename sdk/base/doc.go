// Package base holds the contract every onemfive plugin answers, whatever its
// kind: Info (who it is and which plugin API versions it speaks) and Configure
// (its plugin "name" { ... } block from config.hcl).
//
// Lifecycle, as the host drives it: Info, then Configure exactly once, then the
// role interface of the plugin's kind (transport.Transport or service.Service).
package base
