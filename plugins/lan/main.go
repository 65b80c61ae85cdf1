package main

import (
	"github.com/onemfive/onemfive/plugins/lan/lan"
	"github.com/onemfive/onemfive/sdk"
)

func main() { sdk.ServeTransport(lan.New()) }
