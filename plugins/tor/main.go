package main

import (
	"github.com/onemfive/onemfive/plugins/tor/tor"
	"github.com/onemfive/onemfive/sdk"
)

func main() { sdk.ServeTransport(tor.New()) }
