// Command onemfive-transport-future is a test plugin that speaks only a
// plugin API version this host does not know (99), to test that the host
// skips it with a warning.
package main

import (
	"context"

	"github.com/onemfive/onemfive/sdk"
	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport/memnet"
)

type future struct{ *memnet.Transport }

func (future) Info(context.Context) (base.Info, error) {
	return base.Info{Name: "future", Kind: base.KindTransport, Version: "9.9.9", APIVersions: []int{99}}, nil
}

func main() {
	var n memnet.Network
	sdk.ServeTransport(future{n.NewTransport("future")})
}
