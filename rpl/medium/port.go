package medium

import (
	"sync"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/zep"
)

// Port is an in-process radio attached to a Medium. Frames cross as ZEP v2
// datagrams in memory. It implements Radio.
type Port struct {
	m  *Medium
	ep *endpoint

	mu     sync.Mutex
	recv   Receiver
	seq    uint32
	buf    []byte
	closed bool
}

// Attach connects an in-process radio with MAC address addr (the source
// address its frames carry) and ZEP device id devID. The radio keeps addr
// whatever source address its frames carry: a frame it sends with another
// node's address (a forgery) is heard from the radio's own position and
// does not take that node's place on the medium.
func (m *Medium) Attach(addr ieee802154.Address, devID uint16) (*Port, error) {
	p := &Port{m: m}
	p.ep = &endpoint{m: m, sink: p, addr: addr, fixed: true, devID: devID}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	m.addEndpointLocked(p.ep)
	return p, nil
}

// Addr returns the MAC address the port was attached with.
func (p *Port) Addr() ieee802154.Address { return p.ep.addr }

// SetReceiver implements Radio.
func (p *Port) SetReceiver(r Receiver) {
	p.mu.Lock()
	p.recv = r
	p.mu.Unlock()
}

// Transmit implements Radio: the PSDU is wrapped in a ZEP v2 data packet
// (CRC mode) and handed to the medium.
func (p *Port) Transmit(psdu []byte) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.seq++
	pkt := zep.Packet{
		Type: zep.TypeData, Channel: p.m.cfg.Channel, DeviceID: p.ep.devID, CRCMode: true,
		LQI: 255, NTP: zep.NTPTime(p.m.clk.Now()), Seq: p.seq, Frame: psdu,
	}
	b, err := pkt.AppendBinary(p.buf[:0])
	if err != nil {
		p.mu.Unlock()
		return err
	}
	p.buf = b
	// ingest copies nothing it keeps beyond the per-receiver datagrams it
	// encodes, so p.buf may be reused; p.mu serialises this port's sends.
	err = p.m.ingest(p.ep, b)
	p.mu.Unlock()
	return err
}

// deliver implements sink: decode the ZEP datagram and hand the frame up.
func (p *Port) deliver(datagram []byte) {
	pkt, _, err := zep.Decode(datagram)
	if err != nil || pkt.Type != zep.TypeData {
		return
	}
	p.mu.Lock()
	r := p.recv
	closed := p.closed
	p.mu.Unlock()
	if r == nil || closed {
		return
	}
	r(pkt.Frame, RxInfo{LQI: pkt.LQI, At: zep.TimeFromNTP(pkt.NTP)})
}

// Close implements Radio.
func (p *Port) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.m.mu.Lock()
	p.m.removeEndpointLocked(p.ep)
	p.m.mu.Unlock()
	return nil
}

var _ Radio = (*Port)(nil)
