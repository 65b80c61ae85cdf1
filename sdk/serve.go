package sdk

import (
	"context"
	"os"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/internal/wire"
	"github.com/onemfive/onemfive/sdk/service"
	"github.com/onemfive/onemfive/sdk/transport"
)

// LogLevelEnv names the environment variable a host may set to choose the
// plugin's log level (trace, debug, info, warn, error). Default: info.
const LogLevelEnv = "ONEMFIVE_LOG_LEVEL"

// stopTimeout bounds the Stop a plugin gets when serving ends or its host
// disappears.
const stopTimeout = 5 * time.Second

// processStderr is the plugin process's real stderr, which the host reads
// and parses. go-plugin's Serve later points os.Stderr at a pipe forwarded
// as raw stdio, where JSON log lines would lose their levels.
var processStderr = os.Stderr

// NewLogger returns the logger plugin implementations should use: JSON
// lines on stderr, which the host parses, re-levels and names after the
// plugin.
func NewLogger(name string) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv(LogLevelEnv))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     processStderr,
		JSONFormat: true,
	})
}

// ServeTransport is the whole main of a transport plugin: it serves t
// until the host stops it or goes away, then stops t and returns.
func ServeTransport(t transport.Transport) {
	serve(t, t, plugin.PluginSet{
		PluginBase:      &wire.BasePlugin{Impl: t},
		PluginTransport: &wire.TransportPlugin{Impl: t},
	})
}

// ServeService is the whole main of a service plugin: it serves s until the
// host stops it or goes away, then stops s and returns.
func ServeService(s service.Service) {
	serve(s, s, plugin.PluginSet{
		PluginBase:    &wire.BasePlugin{Impl: s},
		PluginService: &wire.ServicePlugin{Impl: s},
	})
}

type stopper interface {
	Stop(ctx context.Context) error
}

func serve(p base.Plugin, s stopper, set plugin.PluginSet) {
	name := "plugin"
	ictx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	if info, err := p.Info(ictx); err == nil && info.Name != "" {
		name = info.Name
	}
	cancel()
	logger := NewLogger(name)

	stopImpl := func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			logger.Warn("stop failed", "error", err)
		}
	}

	wd := newWatchdog(os.Getppid, processAlive, os.Getenv(ParentPIDEnv))
	go wd.run(context.Background(), watchdogInterval, func(why string) {
		logger.Error("host went away, exiting", "reason", why)
		stopImpl()
		os.Exit(2)
	})

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         set,
		GRPCServer:      wire.NewGRPCServer,
		Logger:          logger,
	})
	stopImpl()
}
