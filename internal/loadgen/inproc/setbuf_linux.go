package inproc

import (
	"net"

	"golang.org/x/sys/unix"
)

// setBuf asks for n bytes of socket buffer each way, past rmem_max when
// permitted (SO_RCVBUFFORCE needs CAP_NET_ADMIN).
func setBuf(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			_ = c.SetReadBuffer(n)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n) != nil {
			_ = c.SetWriteBuffer(n)
		}
	})
}
