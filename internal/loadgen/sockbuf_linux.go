package loadgen

import (
	"net"

	"golang.org/x/sys/unix"
)

// forceBuf sets SO_RCVBUFFORCE / SO_SNDBUFFORCE, which ignore the system
// maximum but need CAP_NET_ADMIN. It reports whether that worked.
func forceBuf(c *net.UDPConn, rcv bool, n int) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	opt := unix.SO_SNDBUFFORCE
	if rcv {
		opt = unix.SO_RCVBUFFORCE
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, n)
	}); err != nil {
		return false
	}
	return serr == nil
}

func getBuffers(c *net.UDPConn) BufSizes {
	var b BufSizes
	rc, err := c.SyscallConn()
	if err != nil {
		return b
	}
	_ = rc.Control(func(fd uintptr) {
		b.Rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		b.Snd, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	return b
}
