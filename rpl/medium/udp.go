package medium

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// udpSink delivers to a node process over UDP.
type udpSink struct {
	conn *net.UDPConn
	to   netip.AddrPort
}

func (u udpSink) deliver(b []byte) { _, _ = u.conn.WriteToUDPAddrPort(b, u.to) }

// ServeUDP serves nodes over conn: every datagram is one ZEP packet from a
// node, identified by its UDP source address and, once it has sent a frame
// with a source address, by that MAC address; frames go back to the nodes
// in range over the same socket. It returns nil when ctx ends (unblocking
// the read with a past deadline; the caller closes conn) or the read error.
// started, if non-nil, is closed once the loop runs.
func (m *Medium) ServeUDP(ctx context.Context, conn *net.UDPConn, started chan<- struct{}) error {
	peers := make(map[netip.AddrPort]*endpoint)
	defer func() {
		m.mu.Lock()
		for _, e := range peers {
			m.removeEndpointLocked(e)
		}
		m.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if started != nil {
		close(started)
	}
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		e := peers[from]
		if e == nil || e.isDead() {
			m.mu.Lock()
			if m.closed {
				m.mu.Unlock()
				return ErrClosed
			}
			if len(m.eps) >= m.cfg.MaxEndpoints {
				m.stats.bad["too many endpoints"]++
				m.mu.Unlock()
				continue
			}
			e = &endpoint{m: m, sink: udpSink{conn: conn, to: from}}
			m.addEndpointLocked(e)
			m.mu.Unlock()
			peers[from] = e
		}
		_ = m.ingest(e, buf[:n])
	}
}

func (e *endpoint) isDead() bool {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	return e.dead
}
