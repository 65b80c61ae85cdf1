package main

import (
	"github.com/onemfive/onemfive/plugins/direct/direct"
	"github.com/onemfive/onemfive/sdk"
)

func main() { sdk.ServeTransport(direct.New()) }
