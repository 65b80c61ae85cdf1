package onemfive

import _ "embed" // for go:embed

// DefaultConfig is the shipped config.hcl, compiled into every binary so the
// daemon has a working configuration when it is started without -config.
// host/config.Default parses it.
//
//go:embed config.hcl
var DefaultConfig []byte
