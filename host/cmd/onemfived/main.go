// Command onemfived is the onemfive host daemon. It reads its configuration
// (a config.hcl given with --config, else the embedded default), applies
// ONEMFIVE_* environment variables and flags on top, and runs until SIGINT or
// SIGTERM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/pflag"

	"github.com/onemfive/onemfive/host/config"
	"github.com/onemfive/onemfive/host/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := pflag.NewFlagSet("onemfived", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded default configuration)")
	passFile := fs.String("passphrase-file", "", "file holding the passphrase that encrypts the node key (default: $ONEMFIVE_PASSPHRASE)")
	version := fs.Bool("version", false, "print the version and exit")
	config.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		fmt.Fprintln(stderr, "onemfived", daemon.Version)
		return 0
	}
	cfg, err := config.Load(*cfgPath, config.Overrides{Flags: fs})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "onemfived", Level: hclog.LevelFromString(cfg.LogLevel), Output: stderr})
	pass, err := passphrase(*passFile)
	if err != nil {
		log.Error("passphrase", "error", err)
		return 1
	}
	d := daemon.New(cfg, daemon.Options{Passphrase: pass}, log)
	t0 := time.Now()
	if err := d.Start(ctx); err != nil {
		log.Error("start failed", "error", err)
		return 1
	}
	log.Info("ready", "node", d.NodeID(), "api", d.APIAddr(), "data_dir", cfg.DataDir, "startup", time.Since(t0).Round(time.Millisecond))
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-hup:
			log.Info("SIGHUP: reloading the policy")
			_ = d.Reload() // refused edits are logged and reported as events
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("shutdown", "error", err)
		return 1
	}
	return 0
}

func passphrase(file string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	return []byte(os.Getenv("ONEMFIVE_PASSPHRASE")), nil
}
