package policy

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// Status is what is known about one network on this node.
type Status int

// Network statuses. The zero value is Absent: no transport for it.
const (
	Absent Status = iota
	Ready
	Bootstrapping
	Blocked
)

var statusNames = [...]string{"absent", "ready", "bootstrapping", "blocked"}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// usable reports whether a step may use a network in this state. A
// bootstrapping network is used (it is expected to come up) and the plan
// says so.
func (s Status) usable() bool { return s == Ready || s == Bootstrapping }

// NetState is one network's state, with since-when and why.
type NetState struct {
	Status Status
	Since  time.Time
	Why    string
}

// Peer is what the node knows of another onemfive node's capabilities.
type Peer struct {
	ID       string
	Networks []string
	// ManCon is the peer's effective level as it last advertised it;
	// ManConUnset when unknown (it then meets no "below" requirement).
	ManCon envelope.ManCon
}

func (p Peer) has(n string) bool { return contains(p.Networks, n) }

// State is the node's view of the world at one instant.
type State struct {
	// Base is the user's base level (config mancon).
	Base envelope.ManCon
	// Escalated is the ratchet's level (Ratchet.Level).
	Escalated envelope.ManCon
	// Networks maps a network name to its state; missing means absent.
	Networks map[string]NetState
	// Peers are the known peers; order does not matter.
	Peers []Peer
}

func (s State) net(name string) NetState { return s.Networks[name] }

// Request is what Evaluate needs from an envelope.
type Request struct {
	Kind envelope.Kind
	// To is the destination: a URL or host for web, a DID, node id or
	// service name otherwise.
	To string
	// ManCon is the level the envelope asks for; ManConUnset for none.
	ManCon envelope.ManCon
}

// RequestFor returns the Request for an envelope.
func RequestFor(e *envelope.Envelope) Request {
	return Request{Kind: e.Kind, To: e.To, ManCon: e.ManCon}
}

// matchName is what route patterns match: the lowercase host of a web
// destination, or the whole destination otherwise.
func matchName(kind envelope.Kind, to string) string {
	to = strings.TrimSpace(to)
	if kind != envelope.KindWeb {
		return to // DIDs are case-sensitive; matches lowercases for matching only
	}
	to = strings.ToLower(to)
	if strings.Contains(to, "://") {
		if u, err := url.Parse(to); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	host := to
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func since(ns NetState) string {
	s := ns.Status.String()
	if !ns.Since.IsZero() {
		s += " since " + ns.Since.UTC().Format(time.RFC3339)
	}
	if ns.Why != "" {
		s += " (" + ns.Why + ")"
	}
	return s
}
