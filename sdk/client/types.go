package client

import (
	"time"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// Status is a snapshot of the daemon: identity, ManCon levels, plugins, bus
// stages and queues.
type Status struct {
	NodeID string `json:"node_id"`
	// ManCon is the base level the user configured; EffectiveManCon is the
	// level in force, which only ratchets up when transports report blocks.
	ManCon          string         `json:"mancon"`
	EffectiveManCon string         `json:"effective_mancon"`
	Plugins         []PluginStatus `json:"plugins"`
	Stages          []StageStatus  `json:"stages"`
	Outbox          int            `json:"outbox"`         // envelopes waiting to be sent
	InboxLastSeq    uint64         `json:"inbox_last_seq"` // newest inbox sequence number; 0 when empty
	StartedAt       time.Time      `json:"started_at"`
	Version         string         `json:"version"`
	// Onion is the onion layer's state; nil when it is disabled.
	Onion *OnionStatus `json:"onion,omitempty"`
	// WebProxy is the web proxy's address (host:port), "" without one.
	WebProxy string `json:"web_proxy,omitempty"`
}

// OnionStatus is what the onion layer has done since the daemon started.
type OnionStatus struct {
	Received  uint64            `json:"received"`  // onion packets that reached this node
	Forwarded uint64            `json:"forwarded"` // relayed on to the next hop
	Delivered uint64            `json:"delivered"` // ended here
	Held      int64             `json:"held"`      // in the mixing queue now
	Dropped   map[string]uint64 `json:"dropped,omitempty"`
	// Suspects are relays currently avoided as down.
	Suspects int `json:"suspects"`
	// LeaseExpires is when this node's published lease set expires; zero
	// when none is published.
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
}

// PluginStatus describes one plugin process as the supervisor sees it.
type PluginStatus struct {
	Name       string          `json:"name"`
	Kind       string          `json:"kind"` // "transport" or "service"
	Version    string          `json:"version"`
	State      string          `json:"state"`
	APIVersion int             `json:"api_version"` // negotiated plugin API major
	PID        int             `json:"pid"`
	Restarts   int             `json:"restarts"`
	Addresses  []string        `json:"addresses,omitempty"` // transport addresses, if a transport
	LastEvent  *TransportEvent `json:"last_event,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// StageStatus holds the counters of one bus stage.
type StageStatus struct {
	Name      string `json:"name"`
	Submitted uint64 `json:"submitted"`
	Processed uint64 `json:"processed"`
	Failed    uint64 `json:"failed"`
	Rejected  uint64 `json:"rejected"`
	Depth     int    `json:"depth"`
	HighWater int    `json:"high_water"`
}

// TransportEvent is a transport's status report: bootstrap progress,
// readiness, or a block with its reason.
type TransportEvent struct {
	Time     time.Time `json:"time"`
	Plugin   string    `json:"plugin"`
	State    string    `json:"state"` // stopped, starting, ready, blocked, failed
	Progress int       `json:"progress"`
	Phase    string    `json:"phase,omitempty"`
	Summary  string    `json:"summary,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Peers    int       `json:"peers"`
}

// InboxItem is a received envelope with its inbox sequence number.
type InboxItem struct {
	Seq      uint64            `json:"seq"`
	From     string            `json:"from,omitempty"` // sender as far as the node knows it
	Received time.Time         `json:"received"`
	Envelope envelope.Envelope `json:"envelope"`
}

// Event types.
const (
	EventEnvelope  = "envelope"  // an envelope arrived; Seq and Envelope are set
	EventTransport = "transport" // a transport reported; Transport is set
	EventPlugin    = "plugin"    // a plugin started, stopped, crashed or restarted
	EventDelivery  = "delivery"  // progress of an envelope this node sent
	EventMancon    = "mancon"    // the effective ManCon level changed
)

// Event is one item of the event stream.
type Event struct {
	// Seq is the inbox sequence number for type "envelope", 0 otherwise.
	Seq       uint64          `json:"seq,omitempty"`
	Type      string          `json:"type"`
	Time      time.Time       `json:"time"`
	Envelope  *InboxItem      `json:"envelope,omitempty"`
	Transport *TransportEvent `json:"transport,omitempty"`
	Message   string          `json:"message,omitempty"`
	Data      map[string]any  `json:"data,omitempty"`
}

// SendResult is the answer to Send.
type SendResult struct {
	ID     string `json:"id"`     // the envelope id, filled in by the server if it was empty
	Queued bool   `json:"queued"` // true when the envelope waits in the outbox
}

// PeerInfo is a known peer and its transport addresses, by network.
type PeerInfo struct {
	NodeID    string              `json:"node_id"`
	Addresses map[string][]string `json:"addresses,omitempty"`
}

// NodeRecord is this node's signed peer record, for sharing with others who
// add it with AddPeer.
type NodeRecord struct {
	Record string `json:"record"` // opaque base64 signed peer record
	NodeID string `json:"node_id"`
}

// ErrorBody is the JSON body of every error response: {"error": {...}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes an API error.
type ErrorDetail struct {
	Code    string `json:"code"` // machine-readable, e.g. "invalid_envelope"
	Message string `json:"message"`
}

// Error codes in ErrorDetail.Code.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidEnvelope  = "invalid_envelope"
	CodeTooLarge         = "too_large"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
)

// PeerRequest is the body of POST /v1/peers.
type PeerRequest struct {
	Record string `json:"record"`
}

// InboxPage is the body of GET /v1/inbox.
type InboxPage struct {
	Items []InboxItem `json:"items"`
}

// PeerList is the body of GET /v1/peers.
type PeerList struct {
	Peers []PeerInfo `json:"peers"`
}

// ManConStatus is the node's ManCon state: the base level the user set, the
// escalated (ratchet) level, the effective level in force and why.
type ManConStatus struct {
	Base      string                  `json:"base"`
	Ratchet   string                  `json:"ratchet"`
	Effective string                  `json:"effective"`
	Blocked   []string                `json:"blocked,omitempty"`  // networks reported blocked now
	Networks  map[string]NetworkState `json:"networks,omitempty"` // as the transports report them
	// PolicyFiles are the policy files in force; empty means the built-in policy.
	PolicyFiles []string `json:"policy_files,omitempty"`
}

// NetworkState is one network's state as the policy engine sees it.
type NetworkState struct {
	Status string    `json:"status"` // absent, ready, bootstrapping, blocked
	Since  time.Time `json:"since"`
	Why    string    `json:"why,omitempty"`
}

// ManConRequest is the body of PUT /v1/mancon.
type ManConRequest struct {
	Level string `json:"level"`
}

// Explanation is a routing plan evaluated against the node's live state.
type Explanation struct {
	Level     string   `json:"level"`
	Kind      string   `json:"kind"`
	Rule      string   `json:"rule"`   // file:line:col of the policy rule used
	Routes    []string `json:"routes"` // in the order they would be tried
	OnFailure []string `json:"on_failure,omitempty"`
	Explain   []string `json:"explain"` // every choice and every skipped option
	NoRoute   bool     `json:"no_route,omitempty"`
}
