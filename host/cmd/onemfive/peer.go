package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

func cmdID(ctx context.Context, a *app, args []string) error {
	fs := a.flags("id", "id [--json]")
	asJSON := fs.Bool("json", false, "print the record and node id as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("id takes no arguments")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	rec, err := c.Node(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, rec)
	}
	// The record alone on stdout, so `onemfive id > me.txt` and
	// `onemfive peer add "$(cat me.txt)"` round-trip.
	fmt.Fprintln(a.stdout, rec.Record)
	return nil
}

func cmdPeer(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return usagef("peer needs a subcommand: add RECORD | list")
	}
	switch args[0] {
	case "add":
		return cmdPeerAdd(ctx, a, args[1:])
	case "list", "ls":
		return cmdPeerList(ctx, a, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(a.stdout, "usage: onemfive peer add RECORD|-   add a peer from its record ('-': read it from standard input)\n       onemfive peer list [--json]")
		return nil
	}
	return usagef("unknown peer subcommand %q (want add or list)", args[0])
}

func cmdPeerAdd(ctx context.Context, a *app, args []string) error {
	fs := a.flags("peer add", "peer add RECORD|-")
	asJSON := fs.Bool("json", false, "print the added peer as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("peer add takes one RECORD (as 'onemfive id' prints it), or '-' to read it from standard input")
	}
	record := fs.Arg(0)
	if record == "-" {
		b, err := io.ReadAll(io.LimitReader(a.stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read record: %w", err)
		}
		record = string(b)
	}
	record = strings.TrimSpace(record)
	if record == "" {
		return usagef("empty record")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	p, err := c.AddPeer(ctx, record)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, p)
	}
	fmt.Fprintf(a.stdout, "added peer %s\n", p.NodeID)
	return nil
}

func cmdPeerList(ctx context.Context, a *app, args []string) error {
	fs := a.flags("peer list", "peer list [--json]")
	asJSON := fs.Bool("json", false, "print the peers as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("peer list takes no arguments")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	peers, err := c.Peers(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(a.stdout, peers)
	}
	if len(peers) == 0 {
		fmt.Fprintln(a.stderr, "no peers; add one with: onemfive peer add RECORD")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE ID\tNETWORK\tADDRESSES")
	for _, p := range peers {
		nets := make([]string, 0, len(p.Addresses))
		for n := range p.Addresses {
			nets = append(nets, n)
		}
		sort.Strings(nets)
		if len(nets) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\n", p.NodeID)
		}
		for i, n := range nets {
			id := p.NodeID
			if i > 0 {
				id = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", id, n, strings.Join(p.Addresses[n], " "))
		}
	}
	return tw.Flush()
}
