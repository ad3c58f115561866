package gateway

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// Batched socket reads. A UDP socket is read with recvmmsg (batchio_linux.go):
// up to readBatch datagrams per system call into one preallocated slab, the
// senders' addresses parsed straight into netip.AddrPort, so a datagram costs
// neither a system call of its own nor an allocation. Each datagram is then
// handled in arrival order on the reading goroutine, exactly as the one-read
// loop did: one client's messages are never reordered. Other PacketConns (a
// border router's conn) and other systems keep the plain ReadFrom loop.

const (
	// readBatch is the number of datagrams one recvmmsg may return.
	readBatch = 64
	// socketBuffer is the receive and send buffer a served UDP socket is
	// given when it has less (Linux caps it at net.core.rmem_max/wmem_max):
	// room for a burst of ~50k small datagrams while the gateway is busy.
	socketBuffer = 4 << 20
)

// datagramBatch is what a batch reader returns: n datagrams, each a slice of
// the reader's slab (valid until the next read) and its sender.
type datagramBatch interface {
	// read blocks until at least one datagram arrived (or the read deadline
	// passed) and returns how many.
	read() (int, error)
	// datagram returns the i-th datagram of the last read and its sender.
	datagram(i int) ([]byte, netip.AddrPort)
}

// serveBatched is Serve's loop for a UDP socket read in batches; it reports
// false (having read nothing) when the socket cannot be read that way.
func (g *Gateway) serveBatched(ctx context.Context, c *servedConn) (bool, error) {
	r := newBatchReader(c.udp, readBatch, g.cfg.MaxDatagram+1)
	if r == nil {
		return false, nil
	}
	growSocketBuffers(c.udp, socketBuffer)
	for {
		n, err := r.read()
		for i := 0; i < n; i++ {
			b, ap := r.datagram(i)
			g.handleDatagram(b, peerKey{conn: c, ap: ap}, nil)
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil || g.ctx.Err() != nil {
			return true, nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue // a deadline someone else set; keep serving
		}
		return true, err
	}
}
