package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onemfive/onemfive/sdk/client"
)

func cmdStatus(ctx context.Context, a *app, args []string) error {
	fs := a.flags("status", "status [--json]")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("status takes no arguments")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, st)
	}
	printStatus(a.stdout, st, time.Now())
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, st client.Status, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "node\t%s\n", st.NodeID)
	fmt.Fprintf(tw, "version\t%s\n", st.Version)
	mancon := st.ManCon
	if st.EffectiveManCon != "" && st.EffectiveManCon != st.ManCon {
		mancon += " (effective " + st.EffectiveManCon + ")"
	}
	fmt.Fprintf(tw, "mancon\t%s\n", mancon)
	if !st.StartedAt.IsZero() {
		fmt.Fprintf(tw, "started\t%s (up %s)\n", st.StartedAt.Local().Format(time.RFC3339), now.Sub(st.StartedAt).Round(time.Second))
	}
	fmt.Fprintf(tw, "outbox\t%d\n", st.Outbox)
	fmt.Fprintf(tw, "inbox seq\t%d\n", st.InboxLastSeq)
	if st.WebProxy != "" {
		fmt.Fprintf(tw, "web proxy\thttp://%s (password: the API token)\n", st.WebProxy)
	}
	if o := st.Onion; o != nil {
		line := fmt.Sprintf("%d received, %d relayed, %d delivered, %d held", o.Received, o.Forwarded, o.Delivered, o.Held)
		var drops uint64
		for _, n := range o.Dropped {
			drops += n
		}
		if drops > 0 {
			line += fmt.Sprintf(", %d dropped", drops)
		}
		if o.Suspects > 0 {
			line += fmt.Sprintf(", %d relays avoided as down", o.Suspects)
		}
		if !o.LeaseExpires.IsZero() {
			line += ", lease set until " + o.LeaseExpires.Local().Format(time.TimeOnly)
		}
		fmt.Fprintf(tw, "onion\t%s\n", line)
	} else {
		fmt.Fprintf(tw, "onion\tdisabled\n")
	}
	tw.Flush()

	fmt.Fprintln(w)
	if len(st.Plugins) == 0 {
		fmt.Fprintln(w, "no plugins running")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PLUGIN\tKIND\tVERSION\tSTATE\tAPI\tPID\tRESTARTS\tDETAIL")
		for _, p := range st.Plugins {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", p.Name, p.Kind, dash(p.Version), p.State,
				p.APIVersion, p.PID, p.Restarts, pluginDetail(p))
		}
		tw.Flush()
	}
	if len(st.Stages) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STAGE\tSUBMITTED\tPROCESSED\tFAILED\tREJECTED\tDEPTH\tHIGH WATER")
		for _, s := range st.Stages {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Name, s.Submitted, s.Processed, s.Failed, s.Rejected, s.Depth, s.HighWater)
		}
		tw.Flush()
	}
}

// pluginDetail is the most useful line about a plugin: its error, else its
// last transport event, else its addresses.
func pluginDetail(p client.PluginStatus) string {
	if p.Error != "" {
		return "error: " + oneLine(p.Error, 60)
	}
	var parts []string
	if e := p.LastEvent; e != nil {
		s := e.State
		if e.Progress > 0 && e.Progress < 100 {
			s += fmt.Sprintf(" %d%%", e.Progress)
		}
		if e.Reason != "" {
			s += ": " + e.Reason
		} else if e.Summary != "" {
			s += ": " + e.Summary
		}
		if e.Peers > 0 {
			s += fmt.Sprintf(", %d peers", e.Peers)
		}
		parts = append(parts, s)
	}
	if len(p.Addresses) > 0 {
		parts = append(parts, strings.Join(p.Addresses, " "))
	}
	if len(parts) == 0 {
		return "-"
	}
	return oneLine(strings.Join(parts, "; "), 80)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
