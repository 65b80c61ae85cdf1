package envelope

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ManCon is a maneuvering condition level. Higher levels route through
// stronger networks with more relays and longer delays. Use the names on
// every interface; the numbers are this implementation's only.
type ManCon int

// ManCon levels in increasing order of maneuvering. Unset means "the node's
// default".
const (
	ManConUnset ManCon = iota
	LOW
	MEDIUM
	HIGH
	VERYHIGH
	EXTREME
	NEO
)

var manconNames = [...]string{"", "LOW", "MEDIUM", "HIGH", "VERYHIGH", "EXTREME", "NEO"}

func (m ManCon) String() string {
	if m >= 0 && int(m) < len(manconNames) {
		return manconNames[m]
	}
	return fmt.Sprintf("ManCon(%d)", int(m))
}

// Valid reports whether m is a named level or unset.
func (m ManCon) Valid() bool { return m >= ManConUnset && m <= NEO }

// ParseManCon parses a level name, case-insensitively.
func ParseManCon(s string) (ManCon, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for i, n := range manconNames {
		if i > 0 && n == u {
			return ManCon(i), nil
		}
	}
	return ManConUnset, fmt.Errorf("envelope: unknown ManCon level %q (want LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (m ManCon) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *ManCon) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = ManConUnset
		return nil
	}
	v, err := ParseManCon(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Kind says what an envelope is for.
type Kind string

// Envelope kinds.
const (
	KindP2P     Kind = "p2p"
	KindWeb     Kind = "web"
	KindService Kind = "service"
)

// Guarantee is the delivery guarantee an envelope asks for.
type Guarantee string

// Delivery guarantees.
const (
	BestEffort  Guarantee = "best-effort"
	AtLeastOnce Guarantee = "at-least-once"
	ExactlyOnce Guarantee = "exactly-once"
)

// Limits enforced by Validate.
const (
	MaxPayload  = 1 << 20
	MaxHeaders  = 64
	MaxSlipHops = 16
	MaxField    = 1024 // bytes in any string field but Payload
)

// Envelope is a message between applications and services.
type Envelope struct {
	ID          string            `json:"id"`
	Created     time.Time         `json:"created"`
	ManCon      ManCon            `json:"mancon,omitempty"`
	Kind        Kind              `json:"kind"`
	From        string            `json:"from,omitempty"` // DID, node id, service name or URL
	To          string            `json:"to"`
	Service     string            `json:"service,omitempty"`
	Operation   string            `json:"operation,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Payload     []byte            `json:"payload,omitempty"`
	ReplyTo     string            `json:"reply_to,omitempty"`
	Slip        []string          `json:"slip,omitempty"` // ordered service hops
	TTL         time.Duration     `json:"ttl,omitempty"`
	Guarantee   Guarantee         `json:"guarantee,omitempty"`
}

// NewID returns a fresh random envelope id (32 hex digits).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid envelope")

// Validate checks limits and required fields.
func (e *Envelope) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("envelope: %w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if e.ID == "" || len(e.ID) > 64 {
		return bad("id must be 1..64 bytes, got %d", len(e.ID))
	}
	switch e.Kind {
	case KindP2P, KindWeb, KindService:
	default:
		return bad("unknown kind %q", e.Kind)
	}
	if e.To == "" {
		return bad("destination (to) is empty")
	}
	if !e.ManCon.Valid() {
		return bad("ManCon level %d out of range", int(e.ManCon))
	}
	switch e.Guarantee {
	case "", BestEffort, AtLeastOnce, ExactlyOnce:
	default:
		return bad("unknown guarantee %q", e.Guarantee)
	}
	if len(e.Payload) > MaxPayload {
		return bad("payload is %d bytes, limit %d", len(e.Payload), MaxPayload)
	}
	if len(e.Headers) > MaxHeaders {
		return bad("%d headers, limit %d", len(e.Headers), MaxHeaders)
	}
	if len(e.Slip) > MaxSlipHops {
		return bad("routing slip has %d hops, limit %d", len(e.Slip), MaxSlipHops)
	}
	if e.TTL < 0 {
		return bad("negative ttl %s", e.TTL)
	}
	for name, v := range map[string]string{"id": e.ID, "from": e.From, "to": e.To, "service": e.Service,
		"operation": e.Operation, "content_type": e.ContentType, "reply_to": e.ReplyTo} {
		if len(v) > MaxField {
			return bad("%s is %d bytes, limit %d", name, len(v), MaxField)
		}
	}
	for k, v := range e.Headers {
		if len(k) > MaxField || len(v) > MaxField {
			return bad("header %.32q exceeds %d bytes", k, MaxField)
		}
	}
	return nil
}
