package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	policy "github.com/onemfive/onemfive/policies"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

func cmdManCon(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return usagef("mancon needs a subcommand: recommend COUNTRY | get | set LEVEL")
	}
	switch args[0] {
	case "recommend":
		return cmdManConRecommend(ctx, a, args[1:])
	case "get":
		return cmdManConGet(ctx, a, args[1:])
	case "set":
		return cmdManConSet(ctx, a, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(a.stdout, "usage: onemfive mancon recommend COUNTRY [--json]   recommended base level for a country (offline)\n"+
			"       onemfive mancon get                         the daemon's base and effective level\n"+
			"       onemfive mancon set LEVEL                   change the daemon's base level\n\n"+
			"Levels: LOW, MEDIUM, HIGH, VERYHIGH, EXTREME, NEO.")
		return nil
	}
	return usagef("unknown mancon subcommand %q (want recommend, get or set)", args[0])
}

// recommendOut is the --json form of mancon recommend.
type recommendOut struct {
	Level    string `json:"level"`
	Country  string `json:"country"`
	ISO2     string `json:"iso2"`
	Category string `json:"category"`
	Index    string `json:"index"`
	Year     int    `json:"year"`
	URL      string `json:"url"`
}

func cmdManConRecommend(_ context.Context, a *app, args []string) error {
	fs := a.flags("mancon recommend", "mancon recommend COUNTRY [--json]\n\n"+
		"COUNTRY is an ISO 3166-1 code (NO, NOR) or an English name (\"United States\").\n"+
		"The level follows the country's category in RSF's World Press Freedom Index.")
	asJSON := fs.Bool("json", false, "print the recommendation as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	country := strings.Join(fs.Args(), " ") // "United States" works unquoted
	if strings.TrimSpace(country) == "" {
		return usagef("mancon recommend takes a COUNTRY: an ISO 3166-1 code such as NO, US or CN, or an English name")
	}
	lvl, src, err := policy.Recommend(country)
	if errors.Is(err, policy.ErrUnknownCountry) {
		return fmt.Errorf("no recommendation for %q: give an ISO 3166-1 alpha-2 or alpha-3 code (NO, USA, CN) or the English name; a country missing from the table gets no guess", country)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, recommendOut{Level: lvl.String(), Country: src.Country, ISO2: src.ISO2,
			Category: src.Category, Index: src.Index, Year: src.Year, URL: src.URL})
	}
	fmt.Fprintf(a.stdout, "%s\n", lvl)
	fmt.Fprintf(a.stdout, "country: %s (%s)\n", src.Country, src.ISO2)
	fmt.Fprintf(a.stdout, "source:  %s %d, category %q, %s\n", src.Index, src.Year, src.Category, src.URL)
	return nil
}

func cmdManConGet(ctx context.Context, a *app, args []string) error {
	fs := a.flags("mancon get", "mancon get [--json]")
	asJSON := fs.Bool("json", false, "print the state as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("mancon get takes no arguments")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	st, err := c.ManCon(ctx)
	if err != nil {
		return err
	}
	return printManCon(a, st, *asJSON)
}

func cmdManConSet(ctx context.Context, a *app, args []string) error {
	fs := a.flags("mancon set", "mancon set LEVEL [--json]\n\nLEVEL is LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO. It sets the\nbase level until the daemon restarts; the effective level never falls\nbelow what current blocks imply.")
	asJSON := fs.Bool("json", false, "print the state as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("mancon set takes one LEVEL (LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO)")
	}
	level, err := envelope.ParseManCon(fs.Arg(0))
	if err != nil {
		return usagef("%v", err)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	st, err := c.SetManCon(ctx, level.String())
	if err != nil {
		return err
	}
	return printManCon(a, st, *asJSON)
}

func printManCon(a *app, st client.ManConStatus, asJSON bool) error {
	if asJSON {
		return writeJSON(a.stdout, st)
	}
	fmt.Fprintf(a.stdout, "effective: %s\nbase:      %s\nratchet:   %s\n", st.Effective, st.Base, st.Ratchet)
	if len(st.Blocked) > 0 {
		fmt.Fprintf(a.stdout, "blocked:   %s\n", strings.Join(st.Blocked, ", "))
	}
	names := make([]string, 0, len(st.Networks))
	for n := range st.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ns := st.Networks[n]
		line := fmt.Sprintf("network %-8s %s", n, ns.Status)
		if ns.Why != "" {
			line += " (" + ns.Why + ")"
		}
		fmt.Fprintln(a.stdout, line)
	}
	if len(st.PolicyFiles) == 0 {
		fmt.Fprintln(a.stdout, "policy:    built-in default")
	} else {
		fmt.Fprintf(a.stdout, "policy:    %s\n", strings.Join(st.PolicyFiles, ", "))
	}
	return nil
}
