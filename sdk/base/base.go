package base

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Kind is the role a plugin plays.
type Kind string

// Plugin kinds.
const (
	KindTransport Kind = "transport"
	KindService   Kind = "service"
)

// Info describes a plugin. The host negotiates the plugin API version from
// APIVersions; the go-plugin handshake version only covers framing.
type Info struct {
	Name         string
	Kind         Kind
	Version      string // the plugin's own release, semver
	APIVersions  []int  // plugin API majors this plugin speaks, e.g. [1]
	Capabilities []string
}

// Config is a plugin's block from the host configuration. Body holds the HCL
// source between the block's braces and Start where it begins in Filename, so
// a plugin that decodes it reports errors at their real file:line:col.
type Config struct {
	Filename string
	Start    hcl.Pos
	Body     []byte
	// DataDir is a directory the host created for this plugin alone.
	DataDir string
}

// Decode decodes the block body into target (a pointer to a struct with hcl
// tags, as gohcl expects). Unknown keys are errors. All problems are reported
// at once in the returned error, each prefixed with its position.
func (c Config) Decode(target any) error {
	start := c.Start
	if start.Line == 0 {
		start = hcl.InitialPos
	}
	f, diags := hclsyntax.ParseConfig(c.Body, c.Filename, start)
	if !diags.HasErrors() {
		diags = append(diags, gohcl.DecodeBody(f.Body, nil, target)...)
	}
	if diags.HasErrors() {
		return fmt.Errorf("config: %w", diags)
	}
	return nil
}

// Plugin is the base contract.
type Plugin interface {
	// Info reports the plugin's identity. It must not depend on Configure.
	Info(ctx context.Context) (Info, error)
	// Configure hands the plugin its configuration block, once, before the
	// role interface is used.
	Configure(ctx context.Context, cfg Config) error
}
