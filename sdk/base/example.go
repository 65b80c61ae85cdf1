package base

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// ExampleBlocks finds every `plugin "name" { ... }` block inside the ```hcl
// fences of a Markdown document and returns each as the Config the host
// would hand the plugin, so a plugin's tests can decode the examples in its
// README and keep them from rotting. Positions are relative to the fence.
func ExampleBlocks(doc []byte, filename, name string) ([]Config, error) {
	var out []Config
	rest := string(doc)
	for fence := 1; ; fence++ {
		var ok bool
		_, rest, ok = strings.Cut(rest, "```hcl\n")
		if !ok {
			return out, nil
		}
		var src string
		src, rest, ok = strings.Cut(rest, "```")
		if !ok {
			return out, fmt.Errorf("base: %s: ```hcl fence %d is not closed", filename, fence)
		}
		f, diags := hclsyntax.ParseConfig([]byte(src), filename, hcl.InitialPos)
		if diags.HasErrors() {
			return out, fmt.Errorf("base: %s: fence %d: %w", filename, fence, diags)
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if b.Type != "plugin" || len(b.Labels) != 1 || b.Labels[0] != name {
				continue
			}
			open, closing := b.OpenBraceRange.End, b.CloseBraceRange.Start
			out = append(out, Config{Filename: filename, Start: open, Body: []byte(src[open.Byte:closing.Byte])})
		}
	}
}

// ExampleBlock reads the Markdown file at path and returns its one
// `plugin "name"` example block (see ExampleBlocks); none or several is an
// error.
func ExampleBlock(path, name string) (Config, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("base: %w", err)
	}
	blocks, err := ExampleBlocks(doc, filepath.Base(path), name)
	if err != nil {
		return Config{}, err
	}
	if len(blocks) != 1 {
		return Config{}, fmt.Errorf("base: %s has %d plugin %q example blocks, want 1", path, len(blocks), name)
	}
	return blocks[0], nil
}
