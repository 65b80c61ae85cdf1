package router

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onemfive/onemfive/host/node"
)

func rng(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

// checkPath verifies every constraint independently of the search code.
// allowed is the full allowed set (nil: any).
func checkPath(path []Candidate, req PathRequest) error {
	if len(path) != req.Hops {
		return fmt.Errorf("length %d, want %d", len(path), req.Hops)
	}
	share := func(a, b []string) bool {
		for _, n := range a {
			if slices.Contains(b, n) && (req.Networks == nil || slices.Contains(req.Networks, n)) {
				return true
			}
		}
		return false
	}
	seen := map[node.ID]bool{}
	prev := req.SenderNetworks
	for i, c := range path {
		if seen[c.ID] {
			return fmt.Errorf("hop %d: %s twice", i, c.ID)
		}
		seen[c.ID] = true
		if slices.Contains(req.Exclude, c.ID) {
			return fmt.Errorf("hop %d: %s excluded", i, c.ID)
		}
		if !share(prev, c.Networks) {
			return fmt.Errorf("hop %d: no shared network", i)
		}
		prev = c.Networks
		for _, g := range c.Groups {
			if slices.Contains(req.SenderGroups, g) {
				return fmt.Errorf("hop %d: group %s shared with the sender", i, g)
			}
			for j := range i {
				if slices.Contains(path[j].Groups, g) {
					return fmt.Errorf("hops %d and %d share group %s", j, i, g)
				}
			}
		}
	}
	if req.End != nil && path[len(path)-1].ID != req.End.ID {
		return fmt.Errorf("path ends at %s, want %s", path[len(path)-1].ID, req.End.ID)
	}
	return nil
}

// bruteForce reports whether any valid path exists, trying every ordered
// selection of distinct directory entries.
func bruteForce(dir []Candidate, req PathRequest) bool {
	free := req.Hops
	if req.End != nil {
		free--
	}
	var try func(path []Candidate) bool
	try = func(path []Candidate) bool {
		if len(path) == free {
			full := slices.Clone(path)
			if req.End != nil {
				full = append(full, *req.End)
			}
			return checkPath(full, req) == nil
		}
		for _, c := range dir {
			if req.End != nil && c.ID == req.End.ID {
				continue
			}
			if try(append(slices.Clone(path), c)) {
				return true
			}
		}
		return false
	}
	return try(nil)
}

func randomCase(r *rand.Rand) ([]Candidate, PathRequest) {
	nets := []string{"direct", "tor", "i2p"}
	groups := []string{"g1", "g2", "g3", "g4", "g5"}
	sub := func(from []string, p float64) []string {
		var out []string
		for _, x := range from {
			if r.Float64() < p {
				out = append(out, x)
			}
		}
		return out
	}
	n := r.IntN(8)
	dir := make([]Candidate, n)
	for i := range dir {
		dir[i] = Candidate{ID: node.ID(fmt.Sprintf("n%d", i)), Networks: sub(nets, 0.6), Groups: sub(groups, 0.2), Weight: uint32(r.IntN(4))}
	}
	req := PathRequest{Hops: 1 + r.IntN(4), SenderNetworks: sub(nets, 0.7), SenderGroups: sub(groups, 0.1)}
	if r.IntN(3) > 0 {
		req.Networks = sub(nets, 0.7)
		r.Shuffle(len(req.Networks), func(i, j int) { req.Networks[i], req.Networks[j] = req.Networks[j], req.Networks[i] })
		if len(req.Networks) == 0 {
			req.Networks = nil
		}
	}
	switch r.IntN(3) {
	case 0:
		if n > 0 {
			e := dir[r.IntN(n)]
			req.End = &e
		}
	case 1:
		req.End = &Candidate{ID: "end", Networks: sub(nets, 0.6), Groups: sub(groups, 0.2)}
	}
	for _, c := range dir {
		if r.IntN(6) == 0 {
			req.Exclude = append(req.Exclude, c.ID)
		}
	}
	return dir, req
}

func TestSelectPathProperties(t *testing.T) {
	r := rand.New(rng(1))
	found, failed := 0, 0
	for iter := range 4000 {
		dir, req := randomCase(r)
		path, err := SelectPath(rng(uint64(iter)), dir, req)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) || !errors.Is(err, ErrNoPath) {
				t.Fatalf("case %d: error %v is not a PathError", iter, err)
			}
			if pe.Budget {
				t.Fatalf("case %d: budget exhausted on a tiny directory", iter)
			}
			if bruteForce(dir, req) {
				t.Fatalf("case %d: SelectPath failed (%v) but a path exists\ndir %+v\nreq %+v", iter, err, dir, req)
			}
			failed++
			continue
		}
		found++
		if err := checkPath(path, req); err != nil {
			t.Fatalf("case %d: invalid path: %v\npath %+v\nreq %+v", iter, err, path, req)
		}
		links, err := LinkNetworks(path, req)
		if err != nil {
			t.Fatalf("case %d: links: %v", iter, err)
		}
		// Preference: the path uses the k-th network only if no path exists
		// over the networks before it.
		if req.Networks != nil {
			worst := 0
			for _, l := range links {
				worst = max(worst, slices.Index(req.Networks, l))
			}
			if worst > 0 {
				narrower := req
				narrower.Networks = req.Networks[:worst]
				if bruteForce(dir, narrower) {
					t.Fatalf("case %d: path uses %s though a path over %v exists", iter, req.Networks[worst], narrower.Networks)
				}
			}
		}
	}
	if found < 500 || failed < 500 {
		t.Fatalf("unbalanced cases: %d found, %d failed", found, failed)
	}
}

func TestSelectPathWeights(t *testing.T) {
	dir := []Candidate{
		{ID: "light", Networks: []string{"direct"}, Weight: 1},
		{ID: "heavy", Networks: []string{"direct"}, Weight: 9},
	}
	req := PathRequest{Hops: 1, SenderNetworks: []string{"direct"}}
	src := rng(7)
	heavy := 0
	const n = 10000
	for range n {
		p, err := SelectPath(src, dir, req)
		if err != nil {
			t.Fatal(err)
		}
		if p[0].ID == "heavy" {
			heavy++
		}
	}
	// Expected 9000, standard deviation 30: 8800..9200 is over six sigma.
	if heavy < 8800 || heavy > 9200 {
		t.Fatalf("heavy chosen %d of %d times, want about 9000", heavy, n)
	}
}

func TestSelectPathExplains(t *testing.T) {
	dir := []Candidate{
		{ID: "a", Networks: []string{"direct"}},
		{ID: "b", Networks: []string{"direct"}},
		{ID: "c", Networks: []string{"tor"}, Groups: []string{"op:x"}},
		{ID: "d", Networks: []string{"tor"}, Groups: []string{"op:x"}},
	}
	cases := []struct {
		name string
		req  PathRequest
		hop  int
		want string
	}{
		{"no network", PathRequest{Hops: 2, SenderNetworks: []string{"i2p"}}, 1, "4 share no allowed network with the previous hop"},
		{"operator", PathRequest{Hops: 2, SenderNetworks: []string{"tor"}, Networks: []string{"tor"}}, 2,
			"1 already on the path, 2 share no allowed network with the previous hop, 1 share a subnet or operator"},
		{"excluded", PathRequest{Hops: 1, SenderNetworks: []string{"direct"}, Exclude: []node.ID{"a", "b"}, Networks: []string{"direct"}}, 1, "2 excluded"},
		{"end unreachable", PathRequest{Hops: 2, SenderNetworks: []string{"direct"}, End: &Candidate{ID: "e", Networks: []string{"tor"}, Groups: []string{"op:x"}}}, 1, "share no allowed network with the end node"},
		{"end excluded", PathRequest{Hops: 2, SenderNetworks: []string{"direct"}, End: &dir[0], Exclude: []node.ID{"a"}}, 0, "end node a is excluded"},
		{"too many hops", PathRequest{Hops: 3, SenderNetworks: []string{"direct"}, Networks: []string{"direct"}}, 3, "none of 4 candidates"},
	}
	for _, c := range cases {
		_, err := SelectPath(rng(1), dir, c.req)
		var pe *PathError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a PathError", c.name, err)
			continue
		}
		if pe.Hop != c.hop || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: hop %d, %q; want hop %d containing %q", c.name, pe.Hop, err, c.hop, c.want)
		}
	}
	for _, hops := range []int{0, 6} {
		if _, err := SelectPath(rng(1), dir, PathRequest{Hops: hops}); err == nil || errors.Is(err, ErrNoPath) {
			t.Errorf("hops %d: %v, want a request error", hops, err)
		}
	}
}

func TestSubnetGroups(t *testing.T) {
	got := SubnetGroups(map[string][]string{
		"direct": {"203.0.113.7:4018", "203.0.200.1:1", "[2001:db8:1:2::5]:4018", "127.0.0.1:4018", "[::1]:1", "[fe80::1%eth0]:1", "[::ffff:198.51.100.2]:9"},
		"tor":    {"abcdef.onion:80"},
		"i2p":    {"xyz.b32.i2p"},
	})
	want := []string{"ip4:198.51.0.0/16", "ip4:203.0.0.0/16", "ip6:2001:db8::/32"}
	if !slices.Equal(got, want) {
		t.Fatalf("SubnetGroups = %v, want %v", got, want)
	}
}

func TestFromRecordAndHop(t *testing.T) {
	id, err := node.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := id.NewRecord(map[string][]string{"tor": {"a.onion:1"}, "direct": {"192.0.2.1:5"}}, t0())
	rec, err := node.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	mk := id.BoxKey().PublicKey() // any X25519 key will do here
	c := FromRecord(rec, mk, "acme")
	if c.ID != id.ID() || !slices.Equal(c.Networks, []string{"direct", "tor"}) || !slices.Equal(c.Groups, []string{"ip4:192.0.0.0/16", "op:acme"}) {
		t.Fatalf("candidate %+v", c)
	}
	h, err := c.Hop(0)
	if err != nil || string(h.ID[:]) != string(id.SigningKey()) || !h.Key.Equal(mk) {
		t.Fatalf("hop %+v %v", h, err)
	}
	if _, err := (Candidate{ID: "bad"}).Hop(0); err == nil {
		t.Fatal("bad id accepted")
	}
}
