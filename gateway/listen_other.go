//go:build !linux

package gateway

import "syscall"

const reusePortSupported = false

func setReusePort(_, _ string, _ syscall.RawConn) error { return nil }
