package policy

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Error is every problem found in a policy. Each diagnostic with a subject
// is printed as file:line:col.
type Error struct {
	Diagnostics hcl.Diagnostics
}

func (e *Error) Error() string {
	var lines []string
	for _, d := range e.Diagnostics {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += "; " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s: %s", Pos(*d.Subject), msg)
		}
		lines = append(lines, msg)
	}
	if len(lines) == 1 {
		return "policy: " + lines[0]
	}
	return fmt.Sprintf("policy: %d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// Unwrap exposes the hcl.Diagnostics (errors.As works on them).
func (e *Error) Unwrap() error { return e.Diagnostics }

// Parse decodes one policy file, named filename in messages. On failure the
// error is an *Error listing every problem.
func Parse(src []byte, filename string) (*Policy, error) {
	return parse([]source{{src, filename}})
}

// Load reads and decodes policy files as one policy: networks declared in
// any file are usable in all, and each level is defined exactly once across
// them. On failure the error is an *Error listing every problem in every
// file, or a read error.
func Load(files ...string) (*Policy, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("policy: load: no files")
	}
	srcs := make([]source, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("policy: load: %w", err)
		}
		srcs = append(srcs, source{b, f})
	}
	return parse(srcs)
}

func parse(srcs []source) (*Policy, error) {
	p, diags := decode(srcs)
	if diags.HasErrors() {
		return nil, &Error{Diagnostics: diags}
	}
	return p, nil
}
