package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/tornet"
)

// cmdTestnet runs private test networks on 127.0.0.1: `testnet tor
// up|down|env` and `testnet i2p up|down|env`. tornet and i2pnet refuse to
// start daemons outside a loopback-only network namespace.
func cmdTestnet(ctx context.Context, a *app, args []string) error {
	if len(args) >= 1 && args[0] == "i2p" {
		return cmdTestnetI2P(ctx, a, args[1:])
	}
	if len(args) < 2 || args[0] != "tor" {
		return usagef("testnet needs: tor|i2p up|down|env [--dir DIR]")
	}
	sub, rest := args[1], args[2:]
	fs := a.flags("testnet tor "+sub, "testnet tor "+sub+" [--dir DIR]")
	dir := fs.String("dir", "tornet", "directory for the network's nodes, pid file and client torrc")
	bridge := fs.Bool("bridge", false, "up: add an obfs4 bridge; env: print the lines to join through it")
	foreground := fs.Bool("foreground", false, "up: stay in the foreground and stop the network on interrupt")
	asHCL := fs.Bool("hcl", false, "env: print a plugin \"tor\" block instead of torrc lines")
	if err := parse(fs, rest); err != nil {
		return err
	}
	switch sub {
	case "up":
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		n, err := tornet.Start(ctx, tornet.Options{Dir: *dir, Bridge: *bridge, Detach: !*foreground,
			Logf: func(f string, args ...any) { fmt.Fprintf(a.stderr, f+"\n", args...) }})
		if err != nil {
			return err
		}
		lines := n.ClientTorrc()
		if *bridge {
			lines = n.BridgeClientTorrc()
		}
		fmt.Fprintln(a.stdout, strings.Join(lines, "\n"))
		holdNetwork(a, "tor", *foreground, n.Dir, tornet.PidFile, *dir, n.Stop)
		return nil
	case "down":
		k, err := tornet.Down(*dir)
		fmt.Fprintf(a.stderr, "stopped %d tor processes\n", k)
		return err
	case "env":
		lines, err := tornet.Env(*dir, *bridge)
		if err != nil {
			return err
		}
		if !*asHCL {
			fmt.Fprintln(a.stdout, strings.Join(lines, "\n"))
			return nil
		}
		fmt.Fprintln(a.stdout, "plugin \"tor\" {\n  torrc = [")
		for _, l := range lines {
			fmt.Fprintf(a.stdout, "    %q,\n", l)
		}
		fmt.Fprintln(a.stdout, "  ]\n}")
		return nil
	}
	return usagef("testnet tor: unknown subcommand %q (up, down, env)", sub)
}

// holdNetwork leaves a started private network running (saying how to
// stop it) or, in the foreground, runs until SIGINT or SIGTERM and stops
// it.
func holdNetwork(a *app, kind string, foreground bool, netDir, pidFile, dir string, stop func()) {
	if !foreground {
		fmt.Fprintf(a.stderr, "private %s network running (pids in %s/%s); stop it with: onemfive testnet %s down --dir %s\n",
			kind, netDir, pidFile, kind, dir)
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	stop()
}
