package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

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
	if err := parse(fs, args); err != nil {
		return err
	}
	env, err := buildEnvelope(a.stdin, *to, *service, *operation, *mancon, *kind, *contentType, *file, fs.Args())
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	res, err := c.Send(ctx, env)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, res)
	}
	state := "sent"
	if res.Queued {
		state = "queued"
	}
	fmt.Fprintf(a.stdout, "%s %s\n", state, res.ID)
	return nil
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
