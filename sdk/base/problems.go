package base

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Problems collects what is wrong with a decoded block's values, each
// reported at the file:line:col of the attribute it concerns, so a plugin
// can report every problem at once after Decode has checked keys and types:
//
//	p := cfg.Problems()
//	p.Duration("keepalive", c.Keepalive, &s.keepalive)
//	if c.MaxQueue < 1 { p.Add("max_queue", fmt.Errorf("%d is less than 1", c.MaxQueue)) }
//	return s, p.Err()
type Problems struct {
	at   map[string]hcl.Pos
	file string
	errs []error
}

// Problems starts a collection for this block.
func (c Config) Problems() *Problems {
	p := &Problems{at: map[string]hcl.Pos{}, file: c.Filename}
	start := c.Start
	if start.Line == 0 {
		start = hcl.InitialPos
	}
	f, _ := hclsyntax.ParseConfig(c.Body, c.Filename, start)
	if f == nil {
		return p
	}
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		for name, a := range body.Attributes {
			p.at[name] = a.SrcRange.Start
		}
	}
	return p
}

// Add records a problem with attribute key.
func (p *Problems) Add(key string, err error) {
	if pos, ok := p.at[key]; ok {
		err = fmt.Errorf("%s:%d:%d: %s: %w", p.file, pos.Line, pos.Column, key, err)
	} else {
		err = fmt.Errorf("%s: %w", key, err)
	}
	p.errs = append(p.errs, err)
}

// Duration parses v (empty means "not set": into is left alone) as a
// positive duration into into, or records why it cannot.
func (p *Problems) Duration(key, v string, into *time.Duration) {
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		p.Add(key, err)
	case d <= 0:
		p.Add(key, fmt.Errorf("%s is not positive", v))
	default:
		*into = d
	}
}

// Err returns every problem joined, or nil.
func (p *Problems) Err() error { return errors.Join(p.errs...) }
