package router

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/onemfive/onemfive/host/node"
	"github.com/onemfive/onemfive/host/onion"
)

// PathRequest says what path SelectPath must find.
type PathRequest struct {
	// Hops is the path length, End included when set: 1..onion.MaxHops.
	Hops int
	// Networks are the networks links may use, most preferred first. Empty
	// means every network.
	Networks []string
	// SenderNetworks are the networks the sender can reach; the first hop
	// must share an allowed one.
	SenderNetworks []string
	// SenderGroups are the sender's own group labels; no hop shares one.
	SenderGroups []string
	// End, when set, is the path's last hop (a destination or a lease
	// gateway). It is never chosen as an earlier hop.
	End *Candidate
	// Exclude lists nodes the path must not use (End excepted).
	Exclude []node.ID
}

// ErrNoPath is wrapped by the error SelectPath returns when no path meets
// the request's constraints.
var ErrNoPath = errors.New("router: no path")

// Reason is a constraint that ruled a candidate out of a hop.
type Reason int

// Reasons a candidate was ruled out, in the order they are checked.
const (
	// ReasonExcluded: excluded by the request, or the end node (which may
	// only be last).
	ReasonExcluded Reason = iota
	// ReasonOnPath: already an earlier hop.
	ReasonOnPath
	// ReasonNetwork: shares no allowed network with the previous hop (or
	// the sender).
	ReasonNetwork
	// ReasonGroup: shares a subnet or operator with another hop, the end
	// node or the sender.
	ReasonGroup
	// ReasonEnd: shares no allowed network with the end node, so cannot be
	// the hop before it.
	ReasonEnd
	numReasons
)

var reasonText = [numReasons]string{
	"excluded",
	"already on the path",
	"share no allowed network with the previous hop",
	"share a subnet or operator with another hop or the sender",
	"share no allowed network with the end node",
}

func (r Reason) String() string {
	if r >= 0 && r < numReasons {
		return reasonText[r]
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// PathError explains why no path was found. It wraps ErrNoPath.
type PathError struct {
	// Hops is the requested path length.
	Hops int
	// Networks are the networks the last search allowed.
	Networks []string
	// Hop is the 1-based position the search could not fill (the deepest it
	// reached); 0 when the request itself is unsatisfiable (Detail says why).
	Hop int
	// Candidates is how many directory entries were considered for Hop.
	Candidates int
	// Rejected counts, by Reason, the candidates ruled out for Hop the last
	// time it was tried.
	Rejected [numReasons]int
	// Budget is true when the search stopped at its step limit instead of
	// exhausting the possibilities.
	Budget bool
	// Detail is a sentence about a request-level failure.
	Detail string
}

func (e *PathError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "router: no path of %d hops over %s", e.Hops, netList(e.Networks))
	switch {
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	case e.Budget:
		fmt.Fprintf(&b, ": search gave up after %d steps at hop %d", stepBudget, e.Hop)
	default:
		fmt.Fprintf(&b, ": hop %d: none of %d candidates fits", e.Hop, e.Candidates)
		sep := " ("
		for r, n := range e.Rejected {
			if n > 0 {
				fmt.Fprintf(&b, "%s%d %s", sep, n, Reason(r))
				sep = ", "
			}
		}
		if sep == ", " {
			b.WriteString(")")
		}
	}
	return b.String()
}

func (e *PathError) Unwrap() error { return ErrNoPath }

func netList(n []string) string {
	if len(n) == 0 {
		return "any network"
	}
	return "networks [" + strings.Join(n, " ") + "]"
}

// stepBudget bounds the candidate evaluations of one search. Realistic
// directories find a path in a few hundred; only adversarial layouts with
// thousands of near-miss candidates reach it.
const stepBudget = 1 << 18

// SelectPath chooses a path from dir meeting req (see the package doc for
// the constraints). It reads randomness from rand. On failure the error is a
// *PathError wrapping ErrNoPath, or a plain error for a malformed request or
// a failing reader.
func SelectPath(rand io.Reader, dir []Candidate, req PathRequest) ([]Candidate, error) {
	if req.Hops < 1 || req.Hops > onion.MaxHops {
		return nil, fmt.Errorf("router: path of %d hops: want 1 to %d", req.Hops, onion.MaxHops)
	}
	tiers := [][]string{nil}
	if len(req.Networks) > 0 {
		tiers = tiers[:0]
		for i := range req.Networks {
			tiers = append(tiers, req.Networks[:i+1])
		}
	}
	var last *PathError
	for _, nets := range tiers {
		s := newSearch(rand, dir, req, nets)
		path, err := s.run()
		if err == nil {
			return path, nil
		}
		var pe *PathError
		if !errors.As(err, &pe) {
			return nil, err
		}
		last = pe
	}
	return nil, last
}

// LinkNetworks returns, for a path SelectPath chose under req, the network
// of each link: element 0 joins the sender to path[0], element i joins
// path[i-1] to path[i]. Each is the most preferred allowed network the two
// ends share.
func LinkNetworks(path []Candidate, req PathRequest) ([]string, error) {
	out := make([]string, len(path))
	prev := req.SenderNetworks
	for i, c := range path {
		n, ok := commonNetwork(prev, c.Networks, req.Networks)
		if !ok {
			return nil, fmt.Errorf("router: link %d to %s: no shared allowed network", i, c.ID.Short())
		}
		out[i] = n
		prev = c.Networks
	}
	return out, nil
}

// commonNetwork returns the first network of allowed (or, with no allowed
// list, the smallest name) that both a and b are on.
func commonNetwork(a, b, allowed []string) (string, bool) {
	if len(allowed) > 0 {
		for _, n := range allowed {
			if slices.Contains(a, n) && slices.Contains(b, n) {
				return n, true
			}
		}
		return "", false
	}
	best, ok := "", false
	for _, n := range a {
		if slices.Contains(b, n) && (!ok || n < best) {
			best, ok = n, true
		}
	}
	return best, ok
}

type search struct {
	rand  io.Reader
	dir   []Candidate
	req   PathRequest
	nets  []string
	path  []Candidate
	used  map[node.ID]bool
	excl  map[node.ID]bool
	steps int
	err   error // reader failure

	deepest    int
	rejected   [numReasons]int
	considered int
	budget     bool
}

func newSearch(rand io.Reader, dir []Candidate, req PathRequest, nets []string) *search {
	s := &search{rand: rand, dir: dir, req: req, nets: nets, used: map[node.ID]bool{}, excl: map[node.ID]bool{}, deepest: -1}
	for _, id := range req.Exclude {
		s.excl[id] = true
	}
	if req.End != nil {
		s.excl[req.End.ID] = true
	}
	return s
}

func (s *search) fail(detail string) *PathError {
	return &PathError{Hops: s.req.Hops, Networks: s.nets, Detail: detail}
}

func (s *search) run() ([]Candidate, error) {
	free := s.req.Hops // hops chosen from the directory
	if end := s.req.End; end != nil {
		free--
		if slices.Contains(s.req.Exclude, end.ID) {
			return nil, s.fail("the end node " + end.ID.Short() + " is excluded")
		}
		if !s.sharesNet(end.Networks, end.Networks) {
			return nil, s.fail("the end node " + end.ID.Short() + " is on no allowed network")
		}
		if overlaps(end.Groups, s.req.SenderGroups) {
			return nil, s.fail("the end node " + end.ID.Short() + " shares a subnet or operator with the sender")
		}
		if free == 0 && !s.sharesNet(s.req.SenderNetworks, end.Networks) {
			return nil, s.fail("the end node " + end.ID.Short() + " shares no allowed network with the sender")
		}
	}
	ok := s.extend(free)
	if s.err != nil {
		return nil, s.err
	}
	if !ok {
		return nil, &PathError{Hops: s.req.Hops, Networks: s.nets, Hop: s.deepest + 1,
			Candidates: s.considered, Rejected: s.rejected, Budget: s.budget}
	}
	out := slices.Clone(s.path)
	if s.req.End != nil {
		out = append(out, *s.req.End)
	}
	return out, nil
}

// extend fills the remaining free hops by depth-first search over weighted
// random orderings of the eligible candidates.
func (s *search) extend(free int) bool {
	if len(s.path) == free {
		return true
	}
	pos := len(s.path)
	prevNets := s.req.SenderNetworks
	if pos > 0 {
		prevNets = s.path[pos-1].Networks
	}
	lastFree := pos == free-1
	var rej [numReasons]int
	var elig []int
	var weights []uint64
	for i := range s.dir {
		c := &s.dir[i]
		s.steps++
		var r Reason = -1
		switch {
		case s.excl[c.ID]:
			r = ReasonExcluded
		case s.used[c.ID]:
			r = ReasonOnPath
		case !s.sharesNet(prevNets, c.Networks):
			r = ReasonNetwork
		case s.groupClash(c):
			r = ReasonGroup
		case lastFree && s.req.End != nil && !s.sharesNet(c.Networks, s.req.End.Networks):
			r = ReasonEnd
		}
		if r >= 0 {
			rej[r]++
			continue
		}
		elig = append(elig, i)
		w := uint64(c.Weight)
		if w == 0 {
			w = 1
		}
		weights = append(weights, w)
	}
	if pos >= s.deepest {
		s.deepest, s.rejected, s.considered = pos, rej, len(s.dir)
	}
	for len(elig) > 0 {
		if s.steps > stepBudget {
			s.budget = true
			return false
		}
		j, err := pick(s.rand, weights)
		if err != nil {
			s.err = fmt.Errorf("router: random: %w", err)
			return false
		}
		c := s.dir[elig[j]]
		s.path = append(s.path, c)
		s.used[c.ID] = true
		if s.extend(free) {
			return true
		}
		if s.err != nil || s.budget {
			return false
		}
		s.path = s.path[:pos]
		delete(s.used, c.ID)
		last := len(elig) - 1
		elig[j], weights[j] = elig[last], weights[last]
		elig, weights = elig[:last], weights[:last]
	}
	return false
}

// sharesNet reports whether a and b share a network allowed in this search.
func (s *search) sharesNet(a, b []string) bool {
	for _, n := range a {
		if (s.nets == nil || slices.Contains(s.nets, n)) && slices.Contains(b, n) {
			return true
		}
	}
	return false
}

func (s *search) groupClash(c *Candidate) bool {
	if overlaps(c.Groups, s.req.SenderGroups) {
		return true
	}
	if s.req.End != nil && overlaps(c.Groups, s.req.End.Groups) {
		return true
	}
	for i := range s.path {
		if overlaps(c.Groups, s.path[i].Groups) {
			return true
		}
	}
	return false
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// pick returns an index drawn with probability proportional to weights.
func pick(rand io.Reader, weights []uint64) (int, error) {
	var total uint64
	for _, w := range weights {
		total += w
	}
	r, err := uniform(rand, total)
	if err != nil {
		return 0, err
	}
	for i, w := range weights {
		if r < w {
			return i, nil
		}
		r -= w
	}
	return len(weights) - 1, nil // unreachable: r < total
}

// uniform returns a uniform value in [0, n) by rejection sampling.
func uniform(rand io.Reader, n uint64) (uint64, error) {
	if n <= 1 {
		return 0, nil
	}
	limit := ^uint64(0) - (^uint64(0)%n+1)%n // largest multiple of n, minus 1
	var b [8]byte
	for {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, err
		}
		v := binary.BigEndian.Uint64(b[:])
		if v <= limit {
			return v % n, nil
		}
	}
}
