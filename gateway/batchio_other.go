//go:build !linux

package gateway

import (
	"net"
	"net/netip"
)

// newBatchReader returns nil: batched reads are implemented for Linux only.
func newBatchReader(*net.UDPConn, int, int) datagramBatch { return nil }

func growSocketBuffers(c *net.UDPConn, n int) {
	_ = c.SetReadBuffer(n)
	_ = c.SetWriteBuffer(n)
}

// replyBatcher is not implemented here: every datagram is written at once.
type replyBatcher struct{}

func newReplyBatcher(*net.UDPConn, int, int) *replyBatcher { return nil }
func (*replyBatcher) begin()                               {}
func (*replyBatcher) end()                                 {}
func (*replyBatcher) queue([]byte, netip.AddrPort) bool    { return false }
