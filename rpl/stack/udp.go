package stack

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
)

// datagram is one received UDP payload.
type datagram struct {
	data []byte
	from netip.AddrPort
	to   netip.Addr
}

// UDPConn is a UDP socket on the stack. It implements net.PacketConn with
// *net.UDPAddr addresses holding IPv6 addresses, so an MQTT-SN client or
// gateway uses it exactly as it would a socket from net.ListenUDP.
// Deadlines are read on the stack's clock.
type UDPConn struct {
	s    *Stack
	port uint16
	q    chan datagram

	mu        sync.Mutex
	closed    bool
	done      chan struct{}
	rdeadline deadline
	wdeadline deadline
	// replyFrom remembers, per peer, the local address the peer last
	// wrote to, so replies come from it (a node may address the border
	// router by an anycast address).
	replyFrom map[netip.AddrPort]netip.Addr
}

// ListenUDP opens a UDP socket on port (an ephemeral port when 0).
func (s *Stack) ListenUDP(port uint16) (*UDPConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if port == 0 {
		for p := 49152 + uint16(s.rng.IntN(16384)); ; p++ {
			if p < 49152 {
				p = 49152
			}
			if s.socks[p] == nil {
				port = p
				break
			}
		}
	}
	if s.socks[port] != nil {
		return nil, ErrPortInUse
	}
	c := &UDPConn{
		s: s, port: port, q: make(chan datagram, s.cfg.UDPQueue), done: make(chan struct{}),
		replyFrom: make(map[netip.AddrPort]netip.Addr),
	}
	c.rdeadline.init(s.clk)
	c.wdeadline.init(s.clk)
	s.socks[port] = c
	return c, nil
}

// udpInput delivers a UDP datagram addressed to this node.
func (s *Stack) udpInput(h ipv6.Header, seg []byte) {
	u, n, err := ipv6.DecodeUDPHeader(seg)
	if err != nil || int(u.Length) != len(seg) {
		s.cnt.Drops["udp length"]++
		return
	}
	if u.Checksum == 0 || !ipv6.VerifyChecksum(h.Src, h.Dst, ipv6.ProtoUDP, seg) {
		s.cnt.Drops["udp checksum"]++
		return
	}
	c := s.socks[u.DstPort]
	if c == nil {
		s.cnt.Drops["udp port unreachable"]++
		return
	}
	s.cnt.UDPRx++
	d := datagram{data: append([]byte(nil), seg[n:]...), from: netip.AddrPortFrom(h.Src, u.SrcPort), to: h.Dst}
	select {
	case c.q <- d:
	default:
		s.cnt.Drops["udp queue full"]++
	}
}

// sendUDP builds and routes one datagram; it holds s.mu.
func (s *Stack) sendUDP(src netip.Addr, sport uint16, dst netip.AddrPort, data []byte) error {
	pkt, err := ipv6.AppendUDPPacket(make([]byte, 0, ipv6.HeaderLen+ipv6.UDPHeaderLen+len(data)),
		netip.AddrPortFrom(src, sport), dst, s.cfg.HopLimit, data)
	if err != nil {
		return err
	}
	h, _, _ := ipv6.DecodeHeader(pkt)
	s.cnt.UDPTx++
	s.output(pkt, h)
	return nil
}

// ReadFrom implements net.PacketConn.
func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// ReadFromAddrPort is ReadFrom without the net.Addr allocation.
func (c *UDPConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		dl, changed := c.rdeadline.ch, c.rdeadline.changed
		c.mu.Unlock()
		select {
		case d := <-c.q:
			c.remember(d)
			return copy(b, d.data), d.from, nil
		default:
		}
		select {
		case d := <-c.q:
			c.remember(d)
			return copy(b, d.data), d.from, nil
		case <-c.done:
			return 0, netip.AddrPort{}, c.opErr("read", net.ErrClosed)
		case <-dl:
			return 0, netip.AddrPort{}, c.opErr("read", os.ErrDeadlineExceeded)
		case <-changed:
			// SetReadDeadline moved the deadline: wait on the new one.
		}
	}
}

func (c *UDPConn) remember(d datagram) {
	if d.to.IsMulticast() {
		return
	}
	c.mu.Lock()
	if c.replyFrom[d.from] != d.to {
		if len(c.replyFrom) >= 4096 {
			clear(c.replyFrom)
		}
		c.replyFrom[d.from] = d.to
	}
	c.mu.Unlock()
}

// WriteTo implements net.PacketConn. addr must be a *net.UDPAddr with an
// IPv6 address. A datagram with no route is dropped and counted, as a
// datagram lost in the network would be.
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, c.opErr("write", errors.New("stack: address is not *net.UDPAddr"))
	}
	ap := ua.AddrPort()
	return c.WriteToAddrPort(b, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
}

// WriteToAddrPort is WriteTo with a netip.AddrPort.
func (c *UDPConn) WriteToAddrPort(b []byte, to netip.AddrPort) (int, error) {
	if !to.Addr().Is6() || to.Addr().Is4In6() {
		return 0, c.opErr("write", errors.New("stack: not an IPv6 address"))
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, c.opErr("write", net.ErrClosed)
	}
	if c.wdeadline.expired() {
		c.mu.Unlock()
		return 0, c.opErr("write", os.ErrDeadlineExceeded)
	}
	from, remembered := c.replyFrom[to]
	c.mu.Unlock()
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, c.opErr("write", net.ErrClosed)
	}
	if !remembered || !s.isLocal(from) {
		var ok bool
		if from, ok = s.sourceFor(to.Addr()); !ok {
			s.cnt.Drops["no source address"]++
			return len(b), nil
		}
	}
	if err := s.sendUDP(from, c.port, to, b); err != nil {
		return 0, c.opErr("write", err)
	}
	return len(b), nil
}

// Close implements net.PacketConn.
func (c *UDPConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	c.rdeadline.stop()
	c.wdeadline.stop()
	c.mu.Unlock()
	c.s.mu.Lock()
	if c.s.socks[c.port] == c {
		delete(c.s.socks, c.port)
	}
	c.s.mu.Unlock()
	return nil
}

// LocalAddr implements net.PacketConn: the global address once joined,
// the link-local one before.
func (c *UDPConn) LocalAddr() net.Addr {
	c.s.mu.Lock()
	a := c.s.ll
	if c.s.global.IsValid() {
		a = c.s.global
	}
	c.s.mu.Unlock()
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, c.port))
}

// Port returns the local port.
func (c *UDPConn) Port() uint16 { return c.port }

// SetDeadline implements net.PacketConn.
func (c *UDPConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline implements net.PacketConn (on the stack's clock).
func (c *UDPConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rdeadline.set(t)
	return nil
}

// SetWriteDeadline implements net.PacketConn. Writes never block, so only
// a deadline already past matters.
func (c *UDPConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wdeadline.set(t)
	return nil
}

func (c *UDPConn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "udp6", Source: nil, Addr: nil, Err: err}
}

// deadline is a channel closed when a clock deadline passes.
type deadline struct {
	clk     clock.Clock
	ch      chan struct{}
	changed chan struct{} // closed (and replaced) when the deadline moves
	timer   clock.Timer
	at      time.Time
}

func (d *deadline) init(clk clock.Clock) { d.clk = clk; d.changed = make(chan struct{}) }

func (d *deadline) stop() {
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func (d *deadline) set(t time.Time) {
	d.stop()
	close(d.changed)
	d.changed = make(chan struct{})
	d.at = t
	if t.IsZero() {
		d.ch = nil // blocks forever in select
		return
	}
	ch := make(chan struct{})
	d.ch = ch
	if dur := t.Sub(d.clk.Now()); dur <= 0 {
		close(ch)
		return
	} else {
		d.timer = d.clk.AfterFunc(dur, func() { close(ch) })
	}
}

func (d *deadline) expired() bool {
	return !d.at.IsZero() && !d.clk.Now().Before(d.at)
}

var _ net.PacketConn = (*UDPConn)(nil)

// Ping sends an ICMPv6 echo request (RFC 4443 §4.1) to dst; replies are
// counted in Counters.EchoReplies.
func (s *Stack) Ping(dst netip.Addr, id, seq uint16, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := binary.BigEndian.AppendUint16(nil, id)
	body = binary.BigEndian.AppendUint16(body, seq)
	body = append(body, payload...)
	s.sendICMP(dst, icmpEchoRequest, 0, body)
}

func (s *Stack) echoReply(from netip.Addr, id, seq uint16) { s.cnt.EchoReplies++ }
