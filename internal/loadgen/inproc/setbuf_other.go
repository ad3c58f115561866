//go:build !linux

package inproc

import "net"

func setBuf(c *net.UDPConn, n int) {
	_ = c.SetReadBuffer(n)
	_ = c.SetWriteBuffer(n)
}
