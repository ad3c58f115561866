//go:build !linux

package gateway

import "net"

// newBatchReader returns nil: batched reads are implemented for Linux only.
func newBatchReader(*net.UDPConn, int, int) datagramBatch { return nil }

func growSocketBuffers(c *net.UDPConn, n int) {
	_ = c.SetReadBuffer(n)
	_ = c.SetWriteBuffer(n)
}
