package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ErrStreamEnded is reported by Events when the server closed the stream
// (the daemon is shutting down, or dropped a subscriber that fell behind).
// Reconnect with the last envelope Seq you handled.
var ErrStreamEnded = errors.New("client: event stream ended")

// MaxEventSize bounds one server-sent event (all its lines together). An
// envelope with the largest payload envelope.Validate allows fits.
const MaxEventSize = 8 << 20

// Events opens the event stream. The server replays inbox envelopes with
// sequence numbers greater than after, then streams live events (see the
// package documentation for the resume pattern).
//
// The events channel is closed when the stream ends; then errc yields exactly
// one non-nil error: ctx.Err() if ctx ended the stream, ErrStreamEnded if the
// server closed it, or what broke it. Cancel ctx to stop reading early; a
// caller that stops receiving without cancelling ctx leaks the reader.
func (c *Client) Events(ctx context.Context, after uint64) (<-chan Event, <-chan error) {
	events := make(chan Event, 16)
	errc := make(chan error, 1)
	fail := func(err error) (<-chan Event, <-chan error) {
		close(events)
		errc <- err
		close(errc)
		return events, errc
	}
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/events?after="+strconv.FormatUint(after, 10), nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fail(fmt.Errorf("client: events: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return fail(decodeError(resp))
	}
	go func() {
		defer close(errc)
		defer close(events)
		defer resp.Body.Close()
		err := ReadEvents(resp.Body, func(ev Event) error {
			select {
			case events <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case err == nil:
			err = ErrStreamEnded
		default:
			err = fmt.Errorf("client: events: %w", err)
		}
		errc <- err
	}()
	return events, errc
}

// ReadEvents parses a text/event-stream body from r and calls fn for every
// event whose data is an Event in JSON, until r ends (it then returns nil),
// reading fails, an event is malformed, or fn returns an error. Comments
// (heartbeats) are skipped. Lines may end in LF or CRLF.
func ReadEvents(r io.Reader, fn func(Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxEventSize)
	var (
		data    bytes.Buffer
		hasData bool
		id      string
		name    string
	)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 { // dispatch
			if hasData {
				ev, err := decodeEvent(data.Bytes(), id, name)
				if err != nil {
					return err
				}
				if err := fn(ev); err != nil {
					return err
				}
			}
			data.Reset()
			hasData, id, name = false, "", ""
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "data":
			if data.Len()+len(value)+1 > MaxEventSize {
				return fmt.Errorf("client: event larger than %d bytes", MaxEventSize)
			}
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		case "id":
			id = string(value)
		case "event":
			name = string(value)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("client: read events: %w", err)
	}
	return nil
}

func decodeEvent(data []byte, id, name string) (Event, error) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Event{}, fmt.Errorf("client: decode event: %w", err)
	}
	if ev.Type == "" {
		ev.Type = name
	}
	if ev.Type == EventEnvelope && ev.Seq == 0 {
		if n, err := strconv.ParseUint(strings.TrimSpace(id), 10, 64); err == nil {
			ev.Seq = n
		}
	}
	if ev.Type == EventEnvelope && ev.Seq == 0 && ev.Envelope != nil {
		ev.Seq = ev.Envelope.Seq
	}
	return ev, nil
}
