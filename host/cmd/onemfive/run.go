package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onemfive/onemfive/sdk/client"
)

// app holds what every command needs: where output goes, and how to reach
// the daemon. Tests build one with their own streams.
type app struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	executable     func() (string, error) // os.Executable, for the default plugin dir

	dataDir string
	apiAddr string
	token   string
}

// command is one subcommand: it gets the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, a *app, args []string) error
}

var commands = map[string]command{
	"status": {"show the daemon's state", cmdStatus},
	"send":   {"send an envelope", cmdSend},
	"listen": {"print incoming envelopes as they arrive", cmdListen},
	"inbox":  {"list received envelopes", cmdInbox},
	"id":     {"print this node's signed record, for sharing", cmdID},
	"peer":   {"add or list peers (peer add RECORD | peer list)", cmdPeer},
	"plugin": {"install, list or remove plugins (plugin install PATH | list | remove NAME)", cmdPlugin},
	"policy": {"check a policy or explain a route, offline (policy check | explain | default)", cmdPolicy},
	"mancon": {"recommend a level for a country; get or set the daemon's (mancon recommend | get | set)", cmdManCon},
	"web":    {"print the web proxy's URL with its password, for HTTP(S)_PROXY (web url [--level LOW])", cmdWeb},

	"testnet": {"private Tor or I2P network on 127.0.0.1, in a loopback-only namespace (testnet tor|i2p up | down | env)", cmdTestnet},
}

// usageError marks a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// run is main without the process: it parses args, runs a command and
// returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, stdin: os.Stdin, executable: os.Executable}
	return a.main(ctx, args)
}

func (a *app) main(ctx context.Context, args []string) int {
	fs := pflag.NewFlagSet("onemfive", pflag.ContinueOnError)
	fs.SetInterspersed(false) // global flags come before the command
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.dataDir, "data-dir", client.DefaultDataDir(), "the daemon's data directory (holds api.addr and api.cookie)")
	fs.StringVar(&a.apiAddr, "api", "", "API address, host:port or URL (default: read from <data-dir>/api.addr)")
	fs.StringVar(&a.token, "token", "", "API bearer token (default: read from <data-dir>/api.cookie)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			a.usage(a.stdout, fs)
			return 0
		}
		fmt.Fprintf(a.stderr, "onemfive: %v\n", err)
		a.usage(a.stderr, fs)
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		a.usage(a.stderr, fs)
		return 2
	}
	if rest[0] == "help" {
		a.usage(a.stdout, fs)
		return 0
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		fmt.Fprintf(a.stderr, "onemfive: unknown command %q\n", rest[0])
		a.usage(a.stderr, fs)
		return 2
	}
	err := cmd.run(ctx, a, rest[1:])
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "onemfive %s: %v\n", rest[0], err)
		return 2
	default:
		fmt.Fprintf(a.stderr, "onemfive %s: %v\n", rest[0], err)
		return 1
	}
}

func (a *app) usage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintln(w, "usage: onemfive [global flags] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nglobal flags:")
	fmt.Fprint(w, fs.FlagUsages())
	fmt.Fprintln(w, "\nRun 'onemfive COMMAND --help' for a command's flags.")
}

// flags returns a flag set for a subcommand whose --help prints to stdout.
func (a *app) flags(name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(a.stdout, "usage: onemfive %s\n\nflags:\n%s", synopsis, fs.FlagUsages())
	}
	return fs
}

// parse parses a subcommand's flags, turning errors into usage errors;
// --help prints the usage and yields pflag.ErrHelp (exit status 0).
func parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err // pflag has called fs.Usage
		}
		return usagef("%v", err)
	}
	return nil
}

// client connects to the daemon named by the global flags.
func (a *app) client() (*client.Client, error) {
	addr, tok := a.apiAddr, a.token
	var err error
	if addr == "" {
		if addr, err = client.ReadAddr(a.dataDir); err != nil {
			return nil, err
		}
	}
	if tok == "" {
		if tok, err = client.ReadCookie(a.dataDir); err != nil {
			return nil, err
		}
	}
	return client.New(addr, tok), nil
}

// oneLine shortens s to one line of at most n runes for tables.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
