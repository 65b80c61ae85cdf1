//go:build linux

package lan

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// listenUDP opens the announcement socket of one address family on every
// address at port, sharing the port with other listeners (several nodes on
// one machine all hear the group) and allowed to broadcast.
func listenUDP(ctx context.Context, v6 bool, port int) (*net.UDPConn, error) {
	network, addr := "udp4", "0.0.0.0"
	if v6 {
		network, addr = "udp6", "::"
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if serr == nil && !v6 {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(ctx, network, net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

func sockopt(c *net.UDPConn, f func(fd int) error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = f(int(fd)) }); err != nil {
		return err
	}
	return serr
}

// join adds c to group on ifi.
func join(c *net.UDPConn, ifi net.Interface, group net.IP) error {
	return sockopt(c, func(fd int) error {
		if g4 := group.To4(); g4 != nil {
			m := &unix.IPMreqn{Ifindex: int32(ifi.Index)}
			copy(m.Multiaddr[:], g4)
			return unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, m)
		}
		m := &unix.IPv6Mreq{Interface: uint32(ifi.Index)}
		copy(m.Multiaddr[:], group.To16())
		return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, m)
	})
}

// setMulticastIf makes c's next multicast datagrams leave through ifi.
func setMulticastIf(c *net.UDPConn, v6 bool, ifi net.Interface) error {
	err := sockopt(c, func(fd int) error {
		if v6 {
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifi.Index)
		}
		return unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(ifi.Index)})
	})
	if err != nil {
		return fmt.Errorf("multicast interface %s: %w", ifi.Name, err)
	}
	return nil
}
