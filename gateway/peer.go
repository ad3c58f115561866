package gateway

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// servedConn is one PacketConn the gateway serves.
type servedConn struct {
	pc  net.PacketConn
	udp *net.UDPConn                 // pc, when it is a UDP socket: reads and writes use netip.AddrPort without allocating
	out atomic.Pointer[replyBatcher] // gathers writes while a read batch is handled (batchio.go)
}

// peerKey identifies where a client's datagrams come from: a conn, the
// sender's address there, and for a client behind a forwarder, its Wireless
// Node Id (MQTT-SN v1.2 §5.5). It is comparable and, for UDP senders, built
// without allocating.
type peerKey struct {
	conn *servedConn
	ap   netip.AddrPort // UDP senders
	addr string         // other net.Addr types: addr.String()
	node string         // forwarder's Wireless Node Id, "" when direct
}

// peer is a client's address, as needed to answer it.
type peer struct {
	key  peerKey
	addr net.Addr // nil for UDP senders until netAddr builds it
}

func newPeer(key peerKey, addr net.Addr) *peer { return &peer{key: key, addr: addr} }

// netAddr returns the sender as a net.Addr (the forwarder, for encapsulated clients).
func (p *peer) netAddr() net.Addr {
	if p.addr == nil && p.key.ap.IsValid() {
		p.addr = net.UDPAddrFromAddrPort(p.key.ap)
	}
	return p.addr
}

func (p *peer) nodeID() []byte {
	if p.key.node == "" {
		return nil
	}
	return []byte(p.key.node)
}

// appendMsg appends m as it goes to p: wrapped in an Encapsulated message for
// a forwarder's client (§5.5), else as is.
func (p *peer) appendMsg(b []byte, m mqttsn.Message) ([]byte, error) {
	if p.key.node != "" {
		e := mqttsn.Encapsulated{NodeID: []byte(p.key.node), Msg: m}
		return e.AppendBinary(b)
	}
	return m.AppendBinary(b)
}

// write sends one datagram to p.
func (p *peer) write(b []byte) error {
	c := p.key.conn
	if c.udp != nil && p.key.ap.IsValid() {
		if o := c.out.Load(); o != nil && o.queue(b, p.key.ap) {
			return nil // sent with the batch's sendmmsg
		}
		_, err := c.udp.WriteToUDPAddrPort(b, p.key.ap)
		return err
	}
	_, err := c.pc.WriteTo(b, p.netAddr())
	return err
}
