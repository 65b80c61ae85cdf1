package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/onemfive/onemfive/sdk/client"
)

// replayPage is how many inbox items the event stream reads per Inbox call.
const replayPage = 256

// streamWriteTimeout bounds one write to an event stream, so a client that
// stops reading cannot hold the handler forever.
const streamWriteTimeout = 30 * time.Second

func (s *Server) heartbeat() time.Duration {
	if s.Heartbeat > 0 {
		return s.Heartbeat
	}
	return DefaultHeartbeat
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	after, err := parseUint(r.URL.Query().Get("after"), 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "after: "+err.Error())
		return
	}
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if after, err = parseUint(v, 0); err != nil {
			writeError(w, http.StatusBadRequest, client.CodeBadRequest, "Last-Event-ID: "+err.Error())
			return
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Subscribe before replaying, so nothing published during the replay
	// is missed; duplicates are skipped by sequence number below.
	sub, err := s.Backend.Subscribe(ctx)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	st := &stream{w: w, rc: http.NewResponseController(w), last: after}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := st.comment("onemfive events"); err != nil {
		return
	}
	if err := s.replay(ctx, st); err != nil {
		s.logger().Debug("event stream ended in replay", "error", err)
		return
	}
	tick := time.NewTicker(s.heartbeat())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := st.comment("ping"); err != nil {
				return
			}
		case ev, ok := <-sub:
			if !ok {
				return // backend ended the subscription; the client resumes by seq
			}
			if err := s.live(ctx, st, ev); err != nil {
				s.logger().Debug("event stream ended", "error", err)
				return
			}
		}
	}
}

// live writes one live event, skipping envelope events the replay already
// sent and filling a gap from the inbox first.
func (s *Server) live(ctx context.Context, st *stream, ev client.Event) error {
	if ev.Type != client.EventEnvelope {
		ev.Seq = 0
		return st.event(ev)
	}
	if ev.Seq <= st.last {
		return nil
	}
	if ev.Seq > st.last+1 {
		// Something between last and ev.Seq was not published to us (or the
		// numbering has holes): the inbox is the truth.
		if err := s.replay(ctx, st); err != nil {
			return err
		}
		if ev.Seq <= st.last {
			return nil
		}
	}
	return st.event(ev)
}

// replay writes every inbox item after st.last.
func (s *Server) replay(ctx context.Context, st *stream) error {
	for {
		items, err := s.Backend.Inbox(ctx, st.last, replayPage)
		if err != nil {
			return fmt.Errorf("api: events: replay: %w", err)
		}
		progressed := false
		for i := range items {
			it := items[i]
			if it.Seq <= st.last {
				continue // a misbehaving backend; never go backwards
			}
			if err := st.event(client.Event{Seq: it.Seq, Type: client.EventEnvelope, Time: it.Received, Envelope: &it}); err != nil {
				return err
			}
			progressed = true
		}
		if len(items) < replayPage || !progressed {
			return nil
		}
	}
}

// stream writes server-sent events and remembers the last envelope seq.
type stream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	last uint64
	buf  bytes.Buffer
}

func (st *stream) event(ev client.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("api: events: encode: %w", err)
	}
	st.buf.Reset()
	if ev.Type == client.EventEnvelope {
		st.buf.WriteString("id: " + strconv.FormatUint(ev.Seq, 10) + "\n")
	}
	st.buf.WriteString("event: " + sanitize(ev.Type) + "\ndata: ")
	st.buf.Write(data) // json.Marshal never emits a raw newline
	st.buf.WriteString("\n\n")
	if err := st.flush(); err != nil {
		return err
	}
	if ev.Type == client.EventEnvelope {
		st.last = ev.Seq
	}
	return nil
}

func (st *stream) comment(text string) error {
	st.buf.Reset()
	st.buf.WriteString(": " + sanitize(text) + "\n\n")
	return st.flush()
}

func (st *stream) flush() error {
	_ = st.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) // unsupported in some test writers
	if _, err := st.w.Write(st.buf.Bytes()); err != nil {
		return err
	}
	return st.rc.Flush()
}

// sanitize keeps line breaks out of SSE field values.
func sanitize(s string) string {
	return string(bytes.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, []byte(s)))
}
