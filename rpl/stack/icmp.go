package stack

import (
	"encoding/binary"
	"net/netip"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// ICMPv6 types and codes used here (RFC 4443, RFC 6550 §6).
const (
	icmpDestUnreach     = 1
	codeAddrUnreachable = 3
	icmpEchoRequest     = 128
	icmpEchoReply       = 129
	icmpRPL             = 155
	// errorQuote bounds how much of an offending packet an ICMPv6 error
	// quotes: the IPv6 header and the start of what follows, enough for
	// the root to find the unreachable hop, in few frames.
	errorQuote = 64
)

// icmpInput handles an ICMPv6 message addressed to this node.
func (s *Stack) icmpInput(pkt []byte, h ipv6.Header, msg []byte, from ieee802154.Address) {
	if len(msg) < 4 {
		s.countBad("icmpv6", errShort)
		return
	}
	if !ipv6.VerifyChecksum(h.Src, h.Dst, ipv6.ProtoICMPv6, msg) {
		s.cnt.Drops["icmpv6 checksum"]++
		return
	}
	switch msg[0] {
	case icmpRPL:
		m, _, err := rplmsg.Decode(msg)
		if err != nil {
			s.countBad("rpl", err)
			return
		}
		s.rpl.Input(m, h.Src, h.Dst, from)
	case icmpEchoRequest:
		if h.Dst.IsMulticast() {
			return
		}
		reply := append([]byte{icmpEchoReply, 0, 0, 0}, msg[4:]...)
		s.sendICMPFrom(h.Dst, h.Src, reply)
	case icmpEchoReply:
		if len(msg) >= 8 {
			s.echoReply(h.Src, binary.BigEndian.Uint16(msg[4:]), binary.BigEndian.Uint16(msg[6:]))
		}
	case icmpDestUnreach:
		// msg[8:] quotes the packet that failed; its destination is the
		// hop the reporting node could not reach.
		if s.cfg.RPL.Root && len(msg) >= 8+ipv6.HeaderLen {
			inner, _, err := ipv6.DecodeHeader(msg[8:])
			if err == nil {
				s.rpl.RouteError(h.Src, inner.Dst)
			}
		}
		s.cnt.ICMPErrorsRx++
	}
}

// sendICMP sends an ICMPv6 message of the given type and code with body to
// dst from the appropriate source address.
func (s *Stack) sendICMP(dst netip.Addr, typ, code uint8, body []byte) {
	src, ok := s.sourceFor(dst)
	if !ok {
		s.cnt.Drops["no source address"]++
		return
	}
	msg := make([]byte, 4, 4+len(body))
	msg[0], msg[1] = typ, code
	msg = append(msg, body...)
	s.sendICMPFrom(src, dst, msg)
}

// sendICMPFrom fills in the checksum of msg and sends it.
func (s *Stack) sendICMPFrom(src, dst netip.Addr, msg []byte) {
	msg[2], msg[3] = 0, 0
	c := ipv6.UpperLayerChecksum(src, dst, ipv6.ProtoICMPv6, msg)
	binary.BigEndian.PutUint16(msg[2:], c)
	s.sendICMPMsg(src, dst, msg)
}

// sendICMPMsg sends a complete ICMPv6 message (checksum filled in).
func (s *Stack) sendICMPMsg(src, dst netip.Addr, msg []byte) {
	hop := s.cfg.HopLimit
	if dst.IsMulticast() || dst.IsLinkLocalUnicast() {
		hop = 255 // RPL and ND link-scope messages
	}
	h := ipv6.Header{PayloadLen: uint16(len(msg)), NextHeader: ipv6.ProtoICMPv6, HopLimit: hop, Src: src, Dst: dst}
	pkt, err := h.AppendBinary(make([]byte, 0, ipv6.HeaderLen+len(msg)))
	if err != nil {
		s.countBad("icmpv6 out", err)
		return
	}
	pkt = append(pkt, msg...)
	s.output(pkt, h)
}

// icmpError reports that pkt could not be forwarded (RFC 4443 §2.4: never
// about an ICMPv6 error or a multicast packet).
func (s *Stack) icmpError(pkt []byte, typ, code uint8) {
	h, _, err := ipv6.DecodeHeader(pkt)
	if err != nil || h.Dst.IsMulticast() || h.Src.IsMulticast() {
		return
	}
	if proto, off, err := ipv6.UpperLayer(pkt); err == nil && proto == ipv6.ProtoICMPv6 && off < len(pkt) && pkt[off] < 128 {
		return
	}
	quote := pkt[:min(len(pkt), errorQuote)]
	body := make([]byte, 4, 4+len(quote))
	body = append(body, quote...)
	s.cnt.ICMPErrorsTx++
	s.sendICMP(h.Src, typ, code, body)
}
