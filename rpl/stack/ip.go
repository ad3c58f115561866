package stack

import (
	"encoding/binary"
	"net/netip"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// ipInput handles a reassembled IPv6 packet that arrived from neighbour
// from. The stack owns pkt.
func (s *Stack) ipInput(pkt []byte, from ieee802154.Address) {
	h, payload, err := ipv6.Packet(pkt)
	if err != nil {
		s.countBad("ipv6", err)
		return
	}
	s.cnt.PacketsRx++
	if !s.isLocal(h.Dst) {
		if h.Dst.IsMulticast() {
			return // a group we have not joined
		}
		s.forward(pkt, h, from, false)
		return
	}
	// Walk extension headers (RFC 8200 §4.1 order).
	proto, off := h.NextHeader, ipv6.HeaderLen
	for ipv6.IsExtHeader(proto) {
		next, n, err := ipv6.ExtHeaderLen(proto, pkt[off:])
		if err != nil {
			s.countBad("ipv6", err)
			return
		}
		if proto == ipv6.ProtoRouting && pkt[off+2] == rplmsg.RoutingTypeSRH && pkt[off+3] > 0 {
			// RFC 6554 §4.2: not the last hop yet.
			if h.Dst.IsMulticast() {
				s.cnt.Drops["srh to multicast"]++
				return
			}
			dst := [16]byte(pkt[24:40])
			if _, err := rplmsg.AdvanceSRH(pkt[off:off+n], &dst); err != nil {
				s.countBad("srh", err)
				return
			}
			copy(pkt[24:40], dst[:])
			nd := netip.AddrFrom16(dst)
			if nd.IsMulticast() {
				s.cnt.Drops["srh to multicast"]++
				return
			}
			if s.isLocal(nd) {
				s.cnt.Drops["srh loop"]++
				return
			}
			h.Dst = nd
			s.forward(pkt, h, from, true)
			return
		}
		if proto == ipv6.ProtoFragment {
			s.cnt.Drops["ipv6 fragment"]++
			return
		}
		proto, off = next, off+n
	}
	_ = payload
	switch proto {
	case ipv6.ProtoICMPv6:
		s.icmpInput(pkt, h, pkt[off:], from)
	case ipv6.ProtoUDP:
		s.udpInput(h, pkt[off:])
	default:
		s.cnt.Drops["unknown protocol"]++
	}
}

// forward sends on a packet addressed to someone else (RFC 8200 §3 hop
// limit, RPL routing). routed says it came with a source route.
func (s *Stack) forward(pkt []byte, h ipv6.Header, from ieee802154.Address, routed bool) {
	if h.Src.IsLinkLocalUnicast() || h.Dst.IsLinkLocalUnicast() {
		s.cnt.Drops["link-local not forwarded"]++
		return
	}
	if pkt[7] <= 1 {
		s.cnt.Drops["hop limit"]++
		return
	}
	pkt[7]--
	s.cnt.Forwarded++
	if routed {
		// The destination after SRH processing must be a neighbour; a
		// failure goes back to the root as an ICMPv6 error so it can drop
		// the dead link (RFC 6554 §4.2, RFC 4443 §3.1 code 3).
		next := lowpan.LinkAddr(h.Dst)
		s.sendPacket(pkt, next, func(_, linkFailed bool) {
			if linkFailed {
				s.icmpError(pkt, icmpDestUnreach, codeAddrUnreachable)
			}
		})
		return
	}
	if s.cfg.RPL.Root {
		s.routeFromRoot(pkt, h)
		return
	}
	parent, ok := s.rpl.ParentLinkAddr()
	if !ok {
		s.cnt.Drops["no route"]++
		return
	}
	if from == parent {
		// Non-storing nodes know no downward routes: a packet from the
		// parent that is not ours and has no source route would loop.
		s.cnt.Drops["no downward route"]++
		return
	}
	s.sendPacket(pkt, parent, nil)
}

// routeFromRoot sends a packet at the root toward a node of the DODAG by
// its source route (RFC 6554), inserting the SRH in place as Contiki-NG's
// RPL-Lite root does, or directly when the node is a neighbour.
func (s *Stack) routeFromRoot(pkt []byte, h ipv6.Header) {
	hops, ok := s.rpl.SourceRoute(h.Dst)
	if !ok {
		s.cnt.Drops["no route"]++
		return
	}
	if len(hops) > 1 {
		if pkt = insertSRH(pkt, hops); pkt == nil {
			s.cnt.Drops["srh"]++
			return
		}
		s.cnt.SourceRouted++
	}
	first := hops[0]
	s.sendPacket(pkt, lowpan.LinkAddr(first), func(_, linkFailed bool) {
		if linkFailed {
			s.rpl.RouteError(s.global, first)
		}
	})
}

// insertSRH rewrites pkt (destination hops[len-1]) to go to hops[0] with an
// SRH naming the rest. Upper-layer checksums stay valid: they cover the
// final destination (RFC 8200 §8.1).
func insertSRH(pkt []byte, hops []netip.Addr) []byte {
	first := hops[0]
	srh := rplmsg.NewSourceRoute(pkt[6], first, hops[1:])
	out := make([]byte, 0, len(pkt)+srh.Len())
	out = append(out, pkt[:ipv6.HeaderLen]...)
	out, err := srh.AppendBinary(out)
	if err != nil {
		return nil
	}
	out = append(out, pkt[ipv6.HeaderLen:]...)
	out[6] = ipv6.ProtoRouting
	binary.BigEndian.PutUint16(out[4:], uint16(len(out)-ipv6.HeaderLen))
	f := first.As16()
	copy(out[24:40], f[:])
	return out
}

// output sends a packet this node originated.
func (s *Stack) output(pkt []byte, h ipv6.Header) {
	switch {
	case h.Dst.IsMulticast():
		s.sendPacket(pkt, ieee802154.Broadcast, nil)
	case h.Dst.IsLinkLocalUnicast():
		s.sendPacket(pkt, lowpan.LinkAddr(h.Dst), nil)
	case s.isLocal(h.Dst):
		s.ipInput(pkt, s.lladdr)
	case s.cfg.RPL.Root:
		s.routeFromRoot(pkt, h)
	default:
		parent, ok := s.rpl.ParentLinkAddr()
		if !ok {
			s.cnt.Drops["no route"]++
			return
		}
		s.sendPacket(pkt, parent, nil)
	}
}

// sourceFor picks the source address for a packet to dst (RFC 6724 in
// miniature): link-local for link-local and multicast destinations, the
// global address otherwise.
func (s *Stack) sourceFor(dst netip.Addr) (netip.Addr, bool) {
	if dst.IsLinkLocalUnicast() || dst.IsLinkLocalMulticast() || dst.IsInterfaceLocalMulticast() {
		return s.ll, true
	}
	if s.global.IsValid() {
		return s.global, true
	}
	return netip.Addr{}, false
}
