package loadgen

import (
	"net"

	"golang.org/x/net/ipv4"

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

// drainQueued reads and counts the datagrams queued in the socket without
// blocking (recvmmsg with MSG_DONTWAIT).
func drainQueued(bc batchConn, batch, size int) int64 {
	ms := make([]ipv4.Message, batch)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, size+1)}
	}
	var total int64
	for {
		n, err := bc.ReadBatch(ms, unix.MSG_DONTWAIT)
		total += int64(max(n, 0))
		if err != nil || n <= 0 {
			return total
		}
	}
}
