package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/onemfive/onemfive/host/web"
	"github.com/onemfive/onemfive/sdk/client"
	"github.com/onemfive/onemfive/sdk/envelope"
)

func cmdWeb(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 || args[0] != "url" {
		return usagef("web takes one subcommand: url [--level LEVEL]")
	}
	fs := a.flags("web url", "web url [--level LEVEL]")
	level := fs.String("level", "", "ManCon level to ask for (LOW ... NEO); default: the node's")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("web url takes no arguments")
	}
	m := envelope.ManConUnset
	if *level != "" {
		var err error
		if m, err = envelope.ParseManCon(*level); err != nil {
			return usagef("--level: %v", err)
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if st.WebProxy == "" {
		return errors.New("the daemon runs no web proxy (add a web { listen = \"127.0.0.1:2019\" } block to its config)")
	}
	tok := a.token
	if tok == "" {
		if tok, err = client.ReadCookie(a.dataDir); err != nil {
			return err
		}
	}
	// For HTTP_PROXY / HTTPS_PROXY or a browser: it holds the API token.
	fmt.Fprintln(a.stdout, web.ProxyURL(st.WebProxy, tok, m).String())
	return nil
}
