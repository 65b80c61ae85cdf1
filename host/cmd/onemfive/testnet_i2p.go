package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/onemfive/onemfive/internal/testnet/i2pnet"
	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
)

// cmdTestnetI2P runs `testnet i2p up|down|env`: a private I2P network of
// i2pd routers on 127.0.0.1. i2pnet refuses to start i2pd outside a
// loopback-only network namespace, and an i2pd older than 2.51.
func cmdTestnetI2P(ctx context.Context, a *app, args []string) error {
	if len(args) < 1 {
		return usagef("testnet i2p needs: up|down|env [--dir DIR]")
	}
	sub, rest := args[0], args[1:]
	fs := a.flags("testnet i2p "+sub, "testnet i2p "+sub+" [--dir DIR]")
	dir := fs.String("dir", "i2pnet", "directory for the routers, the seed zip, the pid file and the client options")
	routers := fs.Int("routers", 4, "up: number of routers (at least 3)")
	floodfills := fs.Int("floodfills", 2, "up: how many of them are floodfills")
	sam := fs.Bool("sam", false, "up: enable a SAM bridge on every router")
	i2pdPath := fs.String("i2pd", "", "up: i2pd executable (default "+i2pd.DefaultPath+", then PATH)")
	foreground := fs.Bool("foreground", false, "up: stay in the foreground and stop the network on interrupt")
	asHCL := fs.Bool("hcl", false, "env: print a plugin \"i2p\" block instead of key = value lines")
	if err := parse(fs, rest); err != nil {
		return err
	}
	switch sub {
	case "up":
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		n, err := i2pnet.Start(ctx, i2pnet.Options{Dir: *dir, Routers: *routers, Floodfills: *floodfills, SAM: *sam,
			I2PDPath: *i2pdPath, Detach: !*foreground,
			Logf: func(f string, args ...any) { fmt.Fprintf(a.stderr, f+"\n", args...) }})
		if err != nil {
			return err
		}
		printI2POptions(a, n.ClientOptions(), false)
		for _, r := range n.Routers {
			if r.SAMPort != 0 {
				fmt.Fprintf(a.stderr, "%s: SAM bridge %s\n", r.Name, r.SAMAddr())
			}
		}
		holdNetwork(a, "i2p", *foreground, n.Dir, i2pnet.PidFile, *dir, n.Stop)
		return nil
	case "down":
		k, err := i2pnet.Down(*dir)
		fmt.Fprintf(a.stderr, "stopped %d i2pd processes\n", k)
		return err
	case "env":
		o, err := i2pnet.Env(*dir)
		if err != nil {
			return err
		}
		printI2POptions(a, o, *asHCL)
		return nil
	}
	return usagef("testnet i2p: unknown subcommand %q (up, down, env)", sub)
}

// printI2POptions prints the options a router needs to join the network:
// "key = value" lines, or a plugin "i2p" block.
func printI2POptions(a *app, o i2pd.Options, asHCL bool) {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if asHCL {
		fmt.Fprintln(a.stdout, "plugin \"i2p\" {\n  i2pd = {")
	}
	for _, k := range keys {
		if asHCL {
			fmt.Fprintf(a.stdout, "    %q = %q\n", k, o[k])
		} else {
			fmt.Fprintf(a.stdout, "%s = %s\n", k, o[k])
		}
	}
	if asHCL {
		fmt.Fprintln(a.stdout, "  }\n}")
	}
}
