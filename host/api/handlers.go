package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

func (s *Server) maxBody() int64 {
	if s.MaxBody > 0 {
		return s.MaxBody
	}
	return DefaultMaxBody
}

// backendError answers for an error the Backend returned.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, envelope.ErrInvalid):
		writeError(w, http.StatusBadRequest, client.CodeInvalidEnvelope, err.Error())
	case errors.Is(err, ErrInvalid):
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, err.Error())
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, client.CodeNotFound, err.Error())
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, client.CodeUnavailable, err.Error())
	default:
		s.logger().Error("backend failed", "path", r.URL.Path, "error", err)
		writeError(w, http.StatusInternalServerError, client.CodeInternal, err.Error())
	}
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	st, err := s.Backend.Status(r.Context())
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	env, status, code, err := decodeEnvelope(http.MaxBytesReader(w, r.Body, s.maxBody()), time.Now())
	if err != nil {
		writeError(w, status, code, err.Error())
		return
	}
	res, err := s.Backend.Send(r.Context(), env)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if res.ID == "" {
		res.ID = env.ID
	}
	writeJSON(w, http.StatusAccepted, res)
}

// decodeEnvelope reads one envelope in JSON from body, fills in ID, Created
// and Kind when they are empty, and validates it. On failure it returns the
// HTTP status and error code to answer with.
func decodeEnvelope(body io.Reader, now time.Time) (*envelope.Envelope, int, string, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var env envelope.Envelope
	err := dec.Decode(&env)
	if err == nil {
		// Exactly one JSON value: anything after it but white space is an error.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the envelope")
			if terr != nil && !errors.Is(terr, io.ErrUnexpectedEOF) {
				err = terr
			}
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, client.CodeTooLarge,
				fmt.Errorf("request body exceeds %d bytes", tooBig.Limit)
		}
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		return nil, http.StatusBadRequest, client.CodeBadRequest, fmt.Errorf("malformed envelope JSON: %w", err)
	}
	if env.ID == "" {
		env.ID = envelope.NewID()
	}
	if env.Created.IsZero() {
		env.Created = now.UTC()
	}
	if env.Kind == "" {
		env.Kind = envelope.KindP2P
	}
	if err := env.Validate(); err != nil {
		return nil, http.StatusBadRequest, client.CodeInvalidEnvelope, err
	}
	return &env, 0, "", nil
}

func (s *Server) handleInbox(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	after, err := parseUint(q.Get("after"), 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "after: "+err.Error())
		return
	}
	limit, err := parseUint(q.Get("limit"), DefaultInboxLimit)
	if err != nil || limit == 0 {
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "limit must be a positive integer")
		return
	}
	limit = min(limit, MaxInboxLimit)
	items, err := s.Backend.Inbox(r.Context(), after, int(limit))
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if items == nil {
		items = []client.InboxItem{}
	}
	writeJSON(w, http.StatusOK, client.InboxPage{Items: items})
}

func (s *Server) handleNode(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	rec, err := s.Backend.Node(r.Context())
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (s *Server) handlePeers(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodGet {
		peers, err := s.Backend.Peers(r.Context())
		if err != nil {
			s.backendError(w, r, err)
			return
		}
		if peers == nil {
			peers = []client.PeerInfo{}
		}
		writeJSON(w, http.StatusOK, client.PeerList{Peers: peers})
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody()))
	dec.DisallowUnknownFields()
	var req client.PeerRequest
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, client.CodeTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "malformed peer request JSON: "+err.Error())
		return
	}
	if req.Record == "" {
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "record is empty")
		return
	}
	p, err := s.Backend.AddPeer(r.Context(), req.Record)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// parseUint parses a non-negative decimal query value; "" gives def.
func parseUint(v string, def uint64) (uint64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a non-negative integer", v)
	}
	return n, nil
}
