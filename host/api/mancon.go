package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/onemfive/onemfive/sdk/client"
)

// handleManCon answers GET (state) and PUT (set the base level).
func (s *Server) handleManCon(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPut) {
		return
	}
	if r.Method == http.MethodGet {
		st, err := s.Backend.ManCon(r.Context())
		if err != nil {
			s.backendError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	var req client.ManConRequest
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, client.CodeTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "malformed mancon request JSON: "+err.Error())
		return
	}
	if req.Level == "" {
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "level is empty (want LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO)")
		return
	}
	st, err := s.Backend.SetManCon(r.Context(), req.Level)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleExplain evaluates the policy: GET /v1/explain?kind=web&to=URL&level=L.
func (s *Server) handleExplain(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	kind, to := q.Get("kind"), q.Get("to")
	if kind == "" || to == "" {
		writeError(w, http.StatusBadRequest, client.CodeBadRequest, "kind and to are required (kind=web|p2p|service, to=destination)")
		return
	}
	ex, err := s.Backend.Explain(r.Context(), kind, to, q.Get("level"))
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ex)
}
