package loadgen

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn reads and writes several datagrams per system call (recvmmsg and
// sendmmsg on Linux; one per call elsewhere). ipv4.Message and ipv6.Message
// are the same type, so one interface covers both families.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchConn wraps a UDP socket for batch I/O according to its family.
func newBatchConn(c *net.UDPConn) batchConn {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil && len(a.IP) == net.IPv6len {
		return ipv6.NewPacketConn(c)
	}
	return ipv4.NewPacketConn(c)
}

// BufSizes are a socket's effective buffer sizes as the kernel reports them
// (Linux doubles the requested value for bookkeeping).
type BufSizes struct {
	Rcv int `json:"rcvbuf"`
	Snd int `json:"sndbuf"`
}

// setBuffers asks for rcv/snd bytes of socket buffer (0 leaves a side alone).
// Where the process may (CAP_NET_ADMIN on Linux) it goes past the system
// maximum (net.core.rmem_max / wmem_max), otherwise it gets what the maximum
// allows. It returns the effective sizes.
func setBuffers(c *net.UDPConn, rcv, snd int) BufSizes {
	if rcv > 0 {
		if !forceBuf(c, true, rcv) {
			_ = c.SetReadBuffer(rcv)
		}
	}
	if snd > 0 {
		if !forceBuf(c, false, snd) {
			_ = c.SetWriteBuffer(snd)
		}
	}
	return getBuffers(c)
}
