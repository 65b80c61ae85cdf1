package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onemfive/onemfive/sdk/client"
)

func cmdListen(ctx context.Context, a *app, args []string) error {
	fs := a.flags("listen", "listen [--after N] [--count N] [--json]")
	after := fs.Uint64("after", 0, "also print inbox envelopes after this seq (default: only new ones)")
	count := fs.Int("count", 0, "exit after this many envelopes (0: run until interrupted)")
	asJSON := fs.Bool("json", false, "print one JSON inbox item per line")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("listen takes no arguments")
	}
	if *count < 0 {
		return usagef("--count must not be negative")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if !fs.Changed("after") {
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		*after = st.InboxLastSeq
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, errc := c.Events(ctx, *after)
	last, n := *after, 0
	for ev := range events {
		if ev.Type != client.EventEnvelope || ev.Envelope == nil {
			continue
		}
		if err := printItem(a.stdout, *ev.Envelope, *asJSON); err != nil {
			return err
		}
		last = ev.Seq
		if n++; *count > 0 && n >= *count {
			cancel()
			break
		}
	}
	err = <-errc
	switch {
	case *count > 0 && n >= *count:
		return nil
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(a.stderr, "stopped; resume with: onemfive listen --after %d\n", last)
		return nil
	default:
		return fmt.Errorf("%w; resume with: onemfive listen --after %d", err, last)
	}
}

func cmdInbox(ctx context.Context, a *app, args []string) error {
	fs := a.flags("inbox", "inbox [--after N] [--limit M] [--json]")
	after := fs.Uint64("after", 0, "list envelopes after this seq")
	limit := fs.Int("limit", 100, "list at most this many")
	asJSON := fs.Bool("json", false, "print one JSON inbox item per line")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("inbox takes no arguments")
	}
	if *limit <= 0 {
		return usagef("--limit must be positive")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	items, err := c.Inbox(ctx, *after, *limit)
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := printItem(a.stdout, it, *asJSON); err != nil {
			return err
		}
	}
	if len(items) == 0 && !*asJSON {
		fmt.Fprintf(a.stderr, "no envelopes after seq %d\n", *after)
	}
	if len(items) == *limit {
		fmt.Fprintf(a.stderr, "more may follow: onemfive inbox --after %d\n", items[len(items)-1].Seq)
	}
	return nil
}

// printItem prints one received envelope: a header line starting with its
// seq, then its payload if it is text, indented.
func printItem(w io.Writer, it client.InboxItem, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(it)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	e := it.Envelope
	from := it.From
	if from == "" {
		from = e.From
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s from %s", it.Seq, it.Received.UTC().Format(time.RFC3339), dash(from))
	if e.Service != "" || e.Operation != "" {
		fmt.Fprintf(&b, " [%s/%s]", e.Service, e.Operation)
	}
	if e.ContentType != "" {
		fmt.Fprintf(&b, " %s", e.ContentType)
	}
	fmt.Fprintf(&b, " %d bytes id %s\n", len(e.Payload), e.ID)
	if isText(e.ContentType, e.Payload) {
		for _, line := range strings.Split(strings.TrimRight(string(e.Payload), "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isText reports whether a payload is safe to print on a terminal.
func isText(contentType string, p []byte) bool {
	if len(p) == 0 || !utf8.Valid(p) {
		return false
	}
	if contentType != "" && !strings.HasPrefix(contentType, "text/") && !strings.Contains(contentType, "json") {
		return false
	}
	for _, r := range string(p) {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}
