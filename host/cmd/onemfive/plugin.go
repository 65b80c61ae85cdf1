package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/pflag"

	"github.com/onemfive/onemfive/registry"
)

func cmdPlugin(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return usagef("plugin needs a subcommand: install PATH | list | remove NAME")
	}
	switch args[0] {
	case "install":
		return cmdPluginInstall(ctx, a, args[1:])
	case "list", "ls":
		return cmdPluginList(ctx, a, args[1:])
	case "remove", "rm":
		return cmdPluginRemove(ctx, a, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(a.stdout, "usage: onemfive plugin install PATH [--dir D]\n       onemfive plugin list [--dir D] [--json]\n       onemfive plugin remove NAME [--dir D]\n\nThe plugin directory defaults to 'plugins' next to the onemfive executable.")
		return nil
	}
	return usagef("unknown plugin subcommand %q (want install, list or remove)", args[0])
}

// pluginDirFlag adds --dir to fs.
func pluginDirFlag(fs *pflag.FlagSet) *string {
	return fs.String("dir", "", "plugin directory (default: 'plugins' next to the onemfive executable)")
}

// registry opens the plugin directory: dir, or <executable's dir>/plugins,
// so bin/onemfive manages bin/plugins as the daemon beside it expects.
func (a *app) registry(dir string) (*registry.Registry, error) {
	if dir == "" {
		exe, err := a.executable()
		if err != nil {
			return nil, fmt.Errorf("find the plugin directory (use --dir): %w", err)
		}
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		dir = filepath.Join(filepath.Dir(exe), "plugins")
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "onemfive", Output: a.stderr, Level: hclog.Warn})
	return registry.New(dir, log), nil
}

func cmdPluginInstall(ctx context.Context, a *app, args []string) error {
	fs := a.flags("plugin install", "plugin install PATH [--dir D]")
	dir := pluginDirFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("plugin install takes one PATH to an executable named onemfive-KIND-NAME")
	}
	reg, err := a.registry(*dir)
	if err != nil {
		return err
	}
	m, err := reg.Install(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "installed %s %s (%s) in %s, sha256 %s\n", m.Kind, m.Name, m.Binary, reg.Dir(), m.SHA256)
	return nil
}

func cmdPluginList(ctx context.Context, a *app, args []string) error {
	fs := a.flags("plugin list", "plugin list [--dir D] [--json]")
	dir := pluginDirFlag(fs)
	asJSON := fs.Bool("json", false, "print the manifests as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("plugin list takes no arguments")
	}
	reg, err := a.registry(*dir)
	if err != nil {
		return err
	}
	// List returns the good manifests even when some are malformed; show
	// them and report the bad ones after.
	ms, listErr := reg.List(ctx)
	if *asJSON {
		if err := writeJSON(a.stdout, ms); err != nil {
			return err
		}
		return listErr
	}
	if len(ms) == 0 && listErr == nil {
		fmt.Fprintf(a.stderr, "no plugins in %s\n", reg.Dir())
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tAPI\tINSTALLED\tSHA256\tCHECK")
	for _, m := range ms {
		check := "ok"
		if err := reg.Verify(m); err != nil {
			check = oneLine(err.Error(), 60)
			if errors.Is(err, registry.ErrChecksumMismatch) {
				check = "CHECKSUM MISMATCH"
			}
		}
		api := make([]string, len(m.APIVersions))
		for i, v := range m.APIVersions {
			api[i] = fmt.Sprint(v)
		}
		sum := m.SHA256
		if len(sum) > 12 {
			sum = sum[:12]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Kind, dash(strings.Join(api, ",")),
			m.Installed.Local().Format(time.DateTime), sum, check)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return listErr
}

func cmdPluginRemove(ctx context.Context, a *app, args []string) error {
	fs := a.flags("plugin remove", "plugin remove NAME [--dir D]")
	dir := pluginDirFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("plugin remove takes one NAME")
	}
	reg, err := a.registry(*dir)
	if err != nil {
		return err
	}
	if err := reg.Remove(ctx, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "removed %s from %s\n", fs.Arg(0), reg.Dir())
	return nil
}
