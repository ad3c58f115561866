package rplmsg

import "net/netip"

// RoutingTypeSRH is the IPv6 Routing Type of the RPL Source Routing Header.
const RoutingTypeSRH uint8 = 3

// SourceRoute is the RPL Source Routing Header (RFC 6554 §3), the routing
// header a non-storing root puts on downward packets:
//
//	next header | hdr ext len | routing type (3) | segments left |
//	CmprI(4) CmprE(4) Pad(4) reserved(20) | Addresses[1..n] | Pad octets
//
// Addresses[1..n-1] carry 16-CmprI octets, Addresses[n] 16-CmprE; the
// elided leading octets equal those of the IPv6 destination, Ref.
type SourceRoute struct {
	NextHeader   uint8
	SegmentsLeft uint8
	CmprI, CmprE uint8 // 0..15
	// Ref is the IPv6 destination address of the packet, the source of
	// the elided prefix octets. It is not sent in the header.
	Ref       netip.Addr
	Addresses []netip.Addr
}

// NewSourceRoute builds the header for a packet whose IPv6 destination is
// dst (the first hop) and that must then visit hops in order. It elides the
// octets that dst and every hop have in common, so the compression stays
// valid as each hop swaps itself into the destination (RFC 6554 §4.2).
func NewSourceRoute(next uint8, dst netip.Addr, hops []netip.Addr) SourceRoute {
	d := dst.As16()
	common := uint8(15)
	for _, h := range hops {
		v := h.As16()
		var c uint8
		for c < common && v[c] == d[c] {
			c++
		}
		common = c
	}
	s := SourceRoute{NextHeader: next, SegmentsLeft: uint8(len(hops)), CmprI: common, CmprE: common, Ref: dst, Addresses: hops}
	if len(hops) <= 1 {
		s.CmprI = 0 // no Addresses[1..n-1]; RFC 6554 leaves CmprI unused
	}
	return s
}

func (s *SourceRoute) unpadded() int {
	n := len(s.Addresses)
	if n == 0 {
		return 8
	}
	return 8 + (n-1)*(16-int(s.CmprI)) + 16 - int(s.CmprE)
}

func (s *SourceRoute) pad() int { return (8 - s.unpadded()%8) % 8 }

// Len is the header length in octets, a multiple of 8.
func (s *SourceRoute) Len() int { return s.unpadded() + s.pad() }

// AppendBinary appends the header. Every address must share its elided
// octets with Ref.
func (s *SourceRoute) AppendBinary(b []byte) ([]byte, error) {
	const name = "SRH"
	if len(s.Addresses) == 0 || int(s.SegmentsLeft) > len(s.Addresses) {
		return b, perr(name, "segments left", ErrInvalid)
	}
	if s.CmprI > 15 || s.CmprE > 15 {
		return b, perr(name, "CmprI/CmprE", ErrInvalid)
	}
	if !validAddr(s.Ref) {
		return b, perr(name, "reference address", ErrAddress)
	}
	if s.Len() > 8*256 {
		return b, perr(name, "length", ErrLength)
	}
	ref := s.Ref.As16()
	pad := s.pad()
	b = append(b, s.NextHeader, byte(s.Len()/8-1), RoutingTypeSRH, s.SegmentsLeft,
		s.CmprI<<4|s.CmprE, byte(pad<<4), 0, 0)
	for i, a := range s.Addresses {
		if !validAddr(a) {
			return b, perr(name, "address", ErrAddress)
		}
		k := s.CmprI
		if i == len(s.Addresses)-1 {
			k = s.CmprE
		}
		v := a.As16()
		if string(v[:k]) != string(ref[:k]) {
			return b, perr(name, "address prefix", ErrInvalid)
		}
		b = append(b, v[k:]...)
	}
	for range pad {
		b = append(b, 0)
	}
	return b, nil
}

// srhLayout validates the fixed part of an SRH at the start of b and
// returns the address count, header length and padding.
func srhLayout(b []byte) (n, hl int, err error) {
	const name = "SRH"
	if len(b) < 8 {
		return 0, 0, perr(name, "header", ErrTruncated)
	}
	if b[2] != RoutingTypeSRH {
		return 0, 0, perr(name, "routing type", ErrType)
	}
	hl = (int(b[1]) + 1) * 8
	if len(b) < hl {
		return 0, 0, perr(name, "addresses", ErrTruncated)
	}
	cmprI, cmprE, pad := int(b[4]>>4), int(b[4]&15), int(b[5]>>4)
	if pad > 7 { // padding only rounds up to a multiple of 8 octets
		return 0, 0, perr(name, "pad", ErrInvalid)
	}
	// RFC 6554 §3: n = ((HdrExtLen*8 - Pad - (16 - CmprE)) / (16 - CmprI)) + 1.
	rest := hl - 8 - pad - (16 - cmprE)
	if rest < 0 || rest%(16-cmprI) != 0 {
		return 0, 0, perr(name, "length", ErrLength)
	}
	n = rest/(16-cmprI) + 1
	if int(b[3]) > n {
		return 0, 0, perr(name, "segments left", ErrInvalid)
	}
	return n, hl, nil
}

// DecodeSourceRoute decodes the SRH at the start of b for a packet whose
// IPv6 destination is dst. It returns the header and its length.
func DecodeSourceRoute(b []byte, dst netip.Addr) (SourceRoute, int, error) {
	n, hl, err := srhLayout(b)
	if err != nil {
		return SourceRoute{}, 0, err
	}
	s := SourceRoute{NextHeader: b[0], SegmentsLeft: b[3], CmprI: b[4] >> 4, CmprE: b[4] & 15, Ref: dst,
		Addresses: make([]netip.Addr, n)}
	ref := dst.As16()
	off := 8
	for i := range n {
		k := int(s.CmprI)
		if i == n-1 {
			k = int(s.CmprE)
		}
		v := ref
		copy(v[k:], b[off:off+16-k])
		off += 16 - k
		s.Addresses[i] = netip.AddrFrom16(v)
	}
	return s, hl, nil
}

// AdvanceSRH performs the address swap of RFC 6554 §4.2 in place on the SRH
// at the start of hdr, for a router that is the current destination dst:
// it decrements Segments Left and exchanges dst with the next address. It
// returns false (and changes nothing) when Segments Left is already zero.
// The caller must still drop packets whose new destination is multicast or
// that loop (RFC 6554 §4.2).
func AdvanceSRH(hdr []byte, dst *[16]byte) (bool, error) {
	n, _, err := srhLayout(hdr)
	if err != nil {
		return false, err
	}
	sl := int(hdr[3])
	if sl == 0 {
		return false, nil
	}
	cmprI, cmprE := int(hdr[4]>>4), int(hdr[4]&15)
	i := n - sl // index of the next address
	k := cmprI
	if i == n-1 {
		k = cmprE
	}
	off := 8 + i*(16-cmprI)
	for j := k; j < 16; j++ {
		dst[j], hdr[off+j-k] = hdr[off+j-k], dst[j]
	}
	hdr[3]--
	return true, nil
}
