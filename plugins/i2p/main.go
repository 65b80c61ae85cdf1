package main

import (
	"github.com/onemfive/onemfive/plugins/i2p/i2p"
	"github.com/onemfive/onemfive/sdk"
)

func main() { sdk.ServeTransport(i2p.New()) }
