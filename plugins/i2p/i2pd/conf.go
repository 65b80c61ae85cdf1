package i2pd

import (
	"fmt"
	"sort"
	"strings"
)

// Options are i2pd settings keyed as on its command line, without the
// dashes: "netid", "reseed.zipfile", "sam.port". A key without a dot is a
// top-level setting; "section.key" goes under [section].
type Options map[string]string

// Merge returns a copy of o with every key of over set over it.
func (o Options) Merge(over Options) Options {
	out := make(Options, len(o)+len(over))
	for k, v := range o {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// Check reports keys or values that cannot be written to i2pd.conf.
func (o Options) Check() error {
	for k, v := range o {
		if k == "" || strings.ContainsAny(k, " =[]\n\r#") || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			return fmt.Errorf("i2pd: option key %q: want name or section.name", k)
		}
		if strings.ContainsAny(v, "\n\r") {
			return fmt.Errorf("i2pd: option %s: value holds a line break", k)
		}
	}
	return nil
}

// Render writes o as an i2pd.conf: top-level keys first, then one
// [section] per prefix, everything sorted.
func (o Options) Render() string {
	top := []string{}
	sections := map[string][]string{}
	for k := range o {
		if sec, key, ok := strings.Cut(k, "."); ok {
			sections[sec] = append(sections[sec], key)
		} else {
			top = append(top, k)
		}
	}
	var b strings.Builder
	b.WriteString("# written by onemfive; edits are overwritten\n")
	sort.Strings(top)
	for _, k := range top {
		fmt.Fprintf(&b, "%s = %s\n", k, o[k])
	}
	names := make([]string, 0, len(sections))
	for s := range sections {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		keys := sections[s]
		sort.Strings(keys)
		fmt.Fprintf(&b, "\n[%s]\n", s)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s = %s\n", k, o[s+"."+k])
		}
	}
	return b.String()
}

// Quiet are the settings every router this project runs shares: no
// public-network reach of its own (UPnP, clock sync, address book
// downloads), no proxies or other client protocols, and no web console (its
// default port 7070 is the one the SAM library probes at init).
func Quiet() Options {
	return Options{
		"daemon": "false", "ipv4": "true", "ipv6": "false",
		"upnp.enabled": "false", "nettime.enabled": "false", "addressbook.enabled": "false",
		"httpproxy.enabled": "false", "socksproxy.enabled": "false", "bob.enabled": "false",
		"i2cp.enabled": "false", "http.enabled": "false", "i2pcontrol.enabled": "false",
		"sam.enabled": "false", "persist.profiles": "false",
	}
}
