package stack

import (
	"net/netip"
)

// RFC 6554 §3 Source Routing Header for RPL:
//
//	next header | hdr ext len | routing type (3) | segments left
//	CmprI(4) CmprE(4) Pad(4) reserved(20)
//	Addresses[1..n], each 16−CmprI octets (the last 16−CmprE), then Pad octets
//
// Elided prefix octets are taken from the IPv6 destination address.
const routingTypeSRH = 3

// srhAddresses returns n, the number of addresses in an SRH of total
// length hl octets (RFC 6554 §3).
func srhCount(hl, cmprI, cmprE, pad int) (int, bool) {
	body := hl - 8 - pad - (16 - cmprE)
	if body < 0 || (16-cmprI) <= 0 || body%(16-cmprI) != 0 {
		return 0, false
	}
	return body/(16-cmprI) + 1, true
}

// appendSRH appends an SRH naming hops (Addresses[1..n]) relative to the
// IPv6 destination dst, compressing the octets every hop shares with dst.
func appendSRH(b []byte, next uint8, dst netip.Addr, hops []netip.Addr) []byte {
	d := dst.As16()
	cmprI, cmprE := 15, 15
	for i, h := range hops {
		a := h.As16()
		c := 0
		for c < 15 && a[c] == d[c] {
			c++
		}
		if i == len(hops)-1 {
			cmprE = min(cmprE, c)
		} else {
			cmprI = min(cmprI, c)
		}
	}
	if len(hops) == 1 {
		cmprI = cmprE
	}
	n := len(hops)
	size := 8 + (n-1)*(16-cmprI) + (16 - cmprE)
	pad := (8 - size%8) % 8
	size += pad
	b = append(b, next, byte(size/8-1), routingTypeSRH, byte(n),
		byte(cmprI<<4|cmprE), byte(pad<<4), 0, 0)
	for i, h := range hops {
		a := h.As16()
		if i == n-1 {
			b = append(b, a[cmprE:]...)
		} else {
			b = append(b, a[cmprI:]...)
		}
	}
	for range pad {
		b = append(b, 0)
	}
	return b
}

// processSRH performs RFC 6554 §4.2 on the SRH h (a slice of pkt, the
// packet whose IPv6 destination is this node): it decrements Segments Left,
// swaps the destination with the next address, and returns the new
// destination. ok is false for a malformed header (drop it).
func processSRH(pkt []byte, h []byte) (next netip.Addr, ok bool) {
	if len(h) < 8 {
		return netip.Addr{}, false
	}
	sl := int(h[3])
	cmprI, cmprE, pad := int(h[4]>>4), int(h[4]&15), int(h[5]>>4)
	n, ok := srhCount(len(h), cmprI, cmprE, pad)
	if !ok || sl == 0 || sl > n {
		return netip.Addr{}, false
	}
	i := n - sl + 1 // 1-based index of the next address
	h[3] = byte(sl - 1)
	var cmpr, off int
	if i == n {
		cmpr, off = cmprE, 8+(n-1)*(16-cmprI)
	} else {
		cmpr, off = cmprI, 8+(i-1)*(16-cmprI)
	}
	var dst [16]byte
	copy(dst[:], pkt[24:40])
	old := dst
	copy(dst[cmpr:], h[off:off+16-cmpr])
	// Swap: Address[i] takes the old destination. Its elided prefix octets
	// are the new destination's, which came from the old one, so the swap
	// is exact.
	copy(h[off:off+16-cmpr], old[cmpr:])
	copy(pkt[24:40], dst[:])
	return netip.AddrFrom16(dst), true
}
