package lowpan

import (
	"encoding/binary"
	"net/netip"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
)

// IPHC base encoding, RFC 6282 §3.1.1 (two octets):
//
//	0 1 1 TF(2) NH HLIM(2) | CID SAC SAM(2) M DAC DAM(2)
//
// followed, in order, by the CID extension octet, the inline traffic class
// and flow label, next header, hop limit, source and destination bits
// (§3.2), then any NHC-compressed headers (§4).
const (
	iphcNH  = 0x04 // first octet
	iphcCID = 0x80 // second octet
	iphcSAC = 0x40
	iphcM   = 0x08
	iphcDAC = 0x04
)

// Compress appends the IPHC encoding of the headers of the IPv6 packet pkt
// (fixed header, then NHC for extension headers and UDP while they are
// compressible) to b. It returns the extended slice and how many octets of
// pkt the encoding stands for; pkt[n:] must follow unchanged. src and dst
// are the link-layer addresses of the frame, used to elide IIDs; ctx may be
// nil. pkt's payload length must match its size.
func Compress(b, pkt []byte, src, dst ieee802154.Address, ctx *ContextTable) (out []byte, n int, err error) {
	h, payload, err := ipv6.Packet(pkt)
	if err != nil {
		return b, 0, perr("IPv6 header", err)
	}
	start := len(b)
	b = append(b, DispatchIPHC, 0)
	// Reserve the CID octet; dropped below if unused.
	b = append(b, 0)

	// Traffic class and flow label (§3.1.1 TF). Inline order is ECN, DSCP.
	ecn, dscp := h.TrafficClass&3, h.TrafficClass>>2
	var tf byte
	switch {
	case h.TrafficClass == 0 && h.FlowLabel == 0:
		tf = 3
	case h.FlowLabel == 0:
		tf = 2
		b = append(b, ecn<<6|dscp)
	case dscp == 0:
		tf = 1
		b = append(b, ecn<<6|byte(h.FlowLabel>>16), byte(h.FlowLabel>>8), byte(h.FlowLabel))
	default:
		b = append(b, ecn<<6|dscp, byte(h.FlowLabel>>16)&0x0f, byte(h.FlowLabel>>8), byte(h.FlowLabel))
	}
	b[start] |= tf << 3

	// Next header (§3.1.1 NH).
	nhc := compressible(h.NextHeader, payload)
	if nhc {
		b[start] |= iphcNH
	} else {
		b = append(b, h.NextHeader)
	}

	// Hop limit (§3.1.1 HLIM).
	switch h.HopLimit {
	case 1:
		b[start] |= 1
	case 64:
		b[start] |= 2
	case 255:
		b[start] |= 3
	default:
		b = append(b, h.HopLimit)
	}

	// Source address (§3.1.1 SAC/SAM).
	var sam, dam uint8
	var sac, dac bool
	var sci, dci uint8
	b, sam, sac, sci = compressUnicast(b, h.Src, src, ctx, true)
	// Destination address (§3.1.1 M/DAC/DAM).
	if h.Dst.IsMulticast() {
		b[start+1] |= iphcM
		b, dam = compressMulticast(b, h.Dst)
	} else {
		b, dam, dac, dci = compressUnicast(b, h.Dst, dst, ctx, false)
	}
	b[start+1] |= sam<<4 | dam
	if sac {
		b[start+1] |= iphcSAC
	}
	if dac {
		b[start+1] |= iphcDAC
	}
	if sci != 0 || dci != 0 {
		b[start+1] |= iphcCID
		b[start+2] = sci<<4 | dci
	} else {
		b = append(b[:start+2], b[start+3:]...)
	}

	// NHC chain (§4).
	proto, off := h.NextHeader, ipv6.HeaderLen
	for nhc {
		if proto == ipv6.ProtoUDP {
			b = appendNHCUDP(b, pkt[off:off+ipv6.UDPHeaderLen])
			off += ipv6.UDPHeaderLen
			break
		}
		next, l, _ := ipv6.ExtHeaderLen(proto, pkt[off:]) // checked by compressible
		nhc = compressible(next, pkt[off+l:])
		b = appendNHCExt(b, proto, pkt[off:off+l], nhc)
		proto, off = next, off+l
	}
	return b, off, nil
}

// AppendPacket appends the complete 6LoWPAN encoding of pkt (compressed
// headers and the rest of the packet) to b.
func AppendPacket(b, pkt []byte, src, dst ieee802154.Address, ctx *ContextTable) ([]byte, error) {
	b, n, err := Compress(b, pkt, src, dst, ctx)
	if err != nil {
		return b, err
	}
	return append(b, pkt[n:]...), nil
}

// headerInfo describes decompressed headers.
type headerInfo struct {
	udpOff    int  // offset of the UDP header in the output, or -1
	udpCsum   bool // the UDP checksum was elided and must be computed
	src, dst  netip.Addr
	headerLen int  // uncompressed header octets appended
	raw       bool // the first fragment carried an uncompressed IPv6 header
}

// decompressHeaders appends the uncompressed IPv6 header and the headers
// compressed by NHC to out, reading the IPHC encoding at the start of in.
// size is the uncompressed datagram size; 0 means "headers plus the rest of
// in". It returns the octets of in consumed.
func decompressHeaders(out, in []byte, src, dst ieee802154.Address, ctx *ContextTable, size int) ([]byte, int, headerInfo, error) {
	info := headerInfo{udpOff: -1}
	start := len(out)
	if len(in) < 2 {
		return out, 0, info, perr("IPHC", ErrTruncated)
	}
	if in[0]&0xe0 != DispatchIPHC {
		return out, 0, info, perr("IPHC", ErrDispatch)
	}
	d0, d1 := in[0], in[1]
	off := 2
	var sci, dci uint8
	if d1&iphcCID != 0 {
		v, err := take(in, &off, 1, "CID")
		if err != nil {
			return out, 0, info, err
		}
		sci, dci = v[0]>>4, v[0]&15
	}
	var h ipv6.Header
	switch (d0 >> 3) & 3 {
	case 0:
		v, err := take(in, &off, 4, "traffic class")
		if err != nil {
			return out, 0, info, err
		}
		h.TrafficClass = v[0]<<2 | v[0]>>6
		h.FlowLabel = uint32(v[1]&0x0f)<<16 | uint32(v[2])<<8 | uint32(v[3])
	case 1:
		v, err := take(in, &off, 3, "flow label")
		if err != nil {
			return out, 0, info, err
		}
		h.TrafficClass = v[0] >> 6
		h.FlowLabel = uint32(v[0]&0x0f)<<16 | uint32(v[1])<<8 | uint32(v[2])
	case 2:
		v, err := take(in, &off, 1, "traffic class")
		if err != nil {
			return out, 0, info, err
		}
		h.TrafficClass = v[0]<<2 | v[0]>>6
	}
	nhc := d0&iphcNH != 0
	if !nhc {
		v, err := take(in, &off, 1, "next header")
		if err != nil {
			return out, 0, info, err
		}
		h.NextHeader = v[0]
	}
	switch d0 & 3 {
	case 0:
		v, err := take(in, &off, 1, "hop limit")
		if err != nil {
			return out, 0, info, err
		}
		h.HopLimit = v[0]
	case 1:
		h.HopLimit = 1
	case 2:
		h.HopLimit = 64
	case 3:
		h.HopLimit = 255
	}
	var err error
	h.Src, err = decompressUnicast(in, &off, (d1>>4)&3, d1&iphcSAC != 0, sci, src, ctx, "src address")
	if err != nil {
		return out, 0, info, err
	}
	if d1&iphcM != 0 {
		h.Dst, err = decompressMulticast(in, &off, d1&3, d1&iphcDAC != 0, dci, ctx)
	} else {
		h.Dst, err = decompressUnicast(in, &off, d1&3, d1&iphcDAC != 0, dci, dst, ctx, "dst address")
	}
	if err != nil {
		return out, 0, info, err
	}
	out, _ = h.AppendBinary(out) // addresses are always 16-octet IPv6 here
	nhPos := start + 6

	// NHC chain (RFC 6282 §4).
	for nhc {
		if off >= len(in) {
			return out, 0, info, perr("NHC", ErrTruncated)
		}
		proto, ok := protoOfNHC(in[off])
		if !ok {
			return out, 0, info, perr("NHC", ErrUnsupported)
		}
		out[nhPos] = proto
		if proto == ipv6.ProtoUDP {
			info.udpOff = len(out)
			out, info.udpCsum, err = decompressNHCUDP(out, in, &off)
			if err != nil {
				return out, 0, info, err
			}
			break
		}
		out, nhPos, nhc, err = decompressNHCExt(out, in, &off)
		if err != nil {
			return out, 0, info, err
		}
	}

	hl := len(out) - start
	if size == 0 {
		size = hl + len(in) - off
	}
	if size < hl || size-ipv6.HeaderLen > 0xffff {
		return out, 0, info, perr("datagram size", ErrLength)
	}
	binary.BigEndian.PutUint16(out[start+4:], uint16(size-ipv6.HeaderLen))
	if info.udpOff >= 0 {
		binary.BigEndian.PutUint16(out[info.udpOff+4:], uint16(size-(info.udpOff-start)))
		info.udpOff -= start
	}
	info.src, info.dst, info.headerLen = h.Src, h.Dst, hl
	return out, off, info, nil
}

// fixUDPChecksum computes an elided UDP checksum in the complete packet pkt.
func fixUDPChecksum(pkt []byte, info headerInfo) {
	u := pkt[info.udpOff:]
	u[6], u[7] = 0, 0
	c := ipv6.UDPChecksum(info.src, info.dst, u)
	binary.BigEndian.PutUint16(u[6:], c)
}

// Decompress appends the IPv6 packet encoded by a complete (unfragmented)
// 6LoWPAN payload — IPHC or uncompressed IPv6 dispatch — to b. src and dst
// are the frame's link-layer addresses; ctx may be nil.
func Decompress(b, in []byte, src, dst ieee802154.Address, ctx *ContextTable) ([]byte, error) {
	switch Classify(in) {
	case KindIPv6:
		return append(b, in[1:]...), nil
	case KindIPHC:
	case KindFrag1, KindFragN:
		return b, perr("dispatch", ErrFragment)
	default:
		return b, perr("dispatch", ErrDispatch)
	}
	start := len(b)
	out, n, info, err := decompressHeaders(b, in, src, dst, ctx, 0)
	if err != nil {
		return b, err
	}
	out = append(out, in[n:]...)
	if info.udpCsum {
		fixUDPChecksum(out[start:], info)
	}
	return out, nil
}
