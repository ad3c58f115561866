//go:build !linux

package loadgen

import "net"

func forceBuf(*net.UDPConn, bool, int) bool { return false }

func getBuffers(*net.UDPConn) BufSizes { return BufSizes{} }

func drainQueued(batchConn, int, int) int64 { return 0 }
