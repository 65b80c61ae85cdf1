package policy

import "strings"

// Network classes a step may name instead of a single network.
const (
	ClassAnonymous = "anonymous" // tor, i2p
	ClassClearnet  = "clearnet"  // https, direct
	Class1DN       = "1dn"       // direct links between nodes (lan, direct)
)

// builtinNetworks are the networks every policy knows, in the order a class
// expands to. A policy can add more with network "NAME" { classes = [...] }.
var builtinNetworks = []struct {
	name    string
	classes []string
}{
	{"i2p", []string{ClassAnonymous}},
	{"tor", []string{ClassAnonymous}},
	{"lan", []string{Class1DN}},
	{"https", []string{ClassClearnet}},
	// direct is a plain link between two nodes over any IP network: 1DN
	// (the LAN plugin builds on it) and clearnet at once.
	{"direct", []string{Class1DN, ClassClearnet}},
}

var builtinClasses = []string{ClassAnonymous, ClassClearnet, Class1DN}

// networks is the set of names a policy may use.
type networks struct {
	order   []string            // every network, builtins first
	classes map[string][]string // class → member networks in order
	known   map[string]bool
}

func newNetworks() *networks {
	n := &networks{classes: map[string][]string{}, known: map[string]bool{}}
	for _, c := range builtinClasses {
		n.classes[c] = nil
	}
	for _, b := range builtinNetworks {
		n.add(b.name, b.classes)
	}
	return n
}

func (n *networks) add(name string, classes []string) {
	n.order = append(n.order, name)
	n.known[name] = true
	for _, c := range classes {
		n.classes[c] = append(n.classes[c], name)
	}
}

// expand returns the networks a step target names, or nil if it names none.
func (n *networks) expand(target string) []string {
	if n.known[target] {
		return []string{target}
	}
	if m, ok := n.classes[target]; ok {
		return m
	}
	return nil
}

func (n *networks) isName(s string) bool {
	_, class := n.classes[s]
	return n.known[s] || class
}

func (n *networks) list() string {
	names := append([]string(nil), n.order...)
	names = append(names, builtinClasses...)
	return strings.Join(names, ", ")
}

// InClass reports whether network belongs to class (a builtin class or one
// a network block names).
func (p *Policy) InClass(network, class string) bool {
	if p == nil || p.nets == nil {
		return false
	}
	return contains(p.nets.classes[class], network)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
