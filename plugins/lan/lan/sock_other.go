//go:build !linux

package lan

import (
	"context"
	"errors"
	"net"
)

var errPlatform = errors.New("lan: multicast discovery is implemented for linux only")

func listenUDP(context.Context, bool, int) (*net.UDPConn, error) { return nil, errPlatform }
func join(*net.UDPConn, net.Interface, net.IP) error             { return errPlatform }
func setMulticastIf(*net.UDPConn, bool, net.Interface) error     { return errPlatform }
