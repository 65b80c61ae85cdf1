package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

func cmdSend(ctx context.Context, a *app, args []string) error {
	fs := a.flags("send", "send --to NODEID [flags] [--file F | TEXT... | -]")
	to := fs.String("to", "", "destination: node id, DID, service name or URL (required)")
	service := fs.String("service", "", "service to address")
	operation := fs.String("operation", "", "operation of the service")
	mancon := fs.String("mancon", "", "ManCon level: LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO (default: the node's)")
	kind := fs.String("kind", string(envelope.KindP2P), "envelope kind: p2p, web or service")
	contentType := fs.String("content-type", "", "payload content type (default text/plain for TEXT, none for files)")
	file := fs.String("file", "", "read the payload from this file ('-' for standard input)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	wait := fs.Duration("wait", 0, "then follow the envelope this long: print why it waits, and return once it is acknowledged or expired")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *wait < 0 {
		return usagef("--wait must not be negative")
	}
	env, err := buildEnvelope(a.stdin, *to, *service, *operation, *mancon, *kind, *contentType, *file, fs.Args())
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var evs <-chan client.Event
	var errc <-chan error
	if *wait > 0 {
		// Subscribe first: the first attempt follows the send at once.
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, *wait)
		defer cancel()
		evs, errc = c.Events(wctx, st.InboxLastSeq)
	}
	res, err := c.Send(ctx, env)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := writeJSON(a.stdout, res); err != nil {
			return err
		}
	} else {
		state := "sent"
		if res.Queued {
			state = "queued"
		}
		fmt.Fprintf(a.stdout, "%s %s\n", state, res.ID)
	}
	if evs == nil {
		return nil
	}
	return followDelivery(a, res.ID, evs, errc, *wait, *asJSON)
}

// followDelivery prints the delivery events of envelope id until it is
// acknowledged (nil) or expired, or the wait ends (an error: it is still
// queued).
func followDelivery(a *app, id string, evs <-chan client.Event, errc <-chan error, wait time.Duration, asJSON bool) error {
	for ev := range evs {
		if ev.Type != client.EventDelivery || ev.Data["id"] != id {
			continue
		}
		state, _ := ev.Data["state"].(string)
		if asJSON {
			if err := writeJSON(a.stdout, ev); err != nil {
				return err
			}
		} else {
			switch state {
			case "acked":
				fmt.Fprintf(a.stdout, "acknowledged %s over %v\n", id, ev.Data["network"])
			case "waiting":
				fmt.Fprintf(a.stdout, "waiting %s: %s\n", id, strings.TrimPrefix(ev.Message, "waiting: "))
			default:
				fmt.Fprintf(a.stdout, "%s %s: %s\n", state, id, ev.Message)
			}
		}
		switch state {
		case "acked":
			return nil
		case "expired":
			return fmt.Errorf("envelope %s expired undelivered", id)
		}
	}
	if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("following envelope %s: %w", id, err)
	}
	return fmt.Errorf("envelope %s not acknowledged within %v; it stays queued", id, wait)
}

// buildEnvelope assembles the envelope from send's flags. The payload is the
// file, or standard input for "-" (as --file or as the only argument), or
// the arguments joined by spaces.
func buildEnvelope(stdin io.Reader, to, service, operation, mancon, kind, contentType, file string, args []string) (*envelope.Envelope, error) {
	if to == "" {
		return nil, usagef("--to is required")
	}
	env := &envelope.Envelope{To: to, Service: service, Operation: operation, Kind: envelope.Kind(kind), ContentType: contentType}
	if mancon != "" {
		m, err := envelope.ParseManCon(mancon)
		if err != nil {
			return nil, usagef("--mancon: %v", err)
		}
		env.ManCon = m
	}
	switch {
	case file != "" && len(args) > 0:
		return nil, usagef("give the payload as --file or as arguments, not both")
	case file == "" && len(args) == 1 && args[0] == "-":
		file = "-"
	case file == "" && len(args) == 0:
		return nil, usagef("no payload: give TEXT, --file F, or '-' for standard input")
	}
	var err error
	switch file {
	case "":
		env.Payload = []byte(strings.Join(args, " "))
		if env.ContentType == "" {
			env.ContentType = "text/plain; charset=utf-8"
		}
	case "-":
		env.Payload, err = io.ReadAll(io.LimitReader(stdin, envelope.MaxPayload+1))
	default:
		env.Payload, err = readLimited(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	if len(env.Payload) > envelope.MaxPayload {
		return nil, fmt.Errorf("payload is larger than %d bytes", envelope.MaxPayload)
	}
	return env, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, envelope.MaxPayload+1))
}
