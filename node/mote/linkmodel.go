package mote

// LinkModel is how UDPTransport estimates the 802.15.4 frames a datagram
// would take over a one-hop 6LoWPAN link between the mote and its border
// router, when no emulated radio carries it. The defaults are what the
// emulated mesh (rpl/stack) sends between a node and a neighbouring root:
//
//	MAC header  21 octets: frame control 2, sequence number 1, destination
//	            PAN 2, destination and source extended addresses 8 + 8, PAN
//	            ID compression (IEEE 802.15.4-2006 §7.2.1)
//	FCS          2 octets
//	IPHC         2 octets: traffic class and flow label elided, next header
//	            compressed, hop limit 64, both addresses elided (area prefix
//	            as context 0, interface identifiers from the MAC addresses)
//	            (RFC 6282 §3.1.1)
//	UDP NHC      7 octets: NHC octet, both ports inline (an ephemeral port and
//	            1883 are not compressible), checksum inline (RFC 6282 §4.3.3)
//
// A datagram whose compressed packet does not fit the 104-octet MAC payload
// is fragmented as RFC 4944 §5.3 says and rpl/lowpan does: a FRAG1 (4-octet
// header) with the compressed headers and data up to a multiple of 8
// uncompressed octets, then FRAGNs (5-octet header) of multiples of 8.
// Every frame is unicast and acknowledged (5-octet ACK).
type LinkModel struct {
	MACHeader int
	FCS       int
	MaxPSDU   int
	IPHC      int
	UDPNHC    int
}

// DefaultLinkModel is the one-hop model described on LinkModel.
func DefaultLinkModel() LinkModel {
	return LinkModel{MACHeader: 21, FCS: 2, MaxPSDU: 127, IPHC: 2, UDPNHC: 7}
}

const (
	ipv6UDPHeaders = 40 + 8 // uncompressed IPv6 and UDP headers (RFC 8200, RFC 768)
	frag1Header    = 4      // RFC 4944 §5.3
	fragNHeader    = 5
)

// Frames appends to dst the PSDU sizes (FCS included) of the frames that
// carry one UDP datagram of n octets, and returns it.
func (l LinkModel) Frames(dst []int, n int) []int {
	over := l.MACHeader + l.FCS
	room := l.MaxPSDU - over
	hl := l.IPHC + l.UDPNHC
	if hl+n <= room {
		return append(dst, over+hl+n)
	}
	total := ipv6UDPHeaders + n
	end := (ipv6UDPHeaders + room - frag1Header - hl) &^ 7
	dst = append(dst, over+frag1Header+hl+end-ipv6UDPHeaders)
	step := (room - fragNHeader) &^ 7
	for off := end; off < total; off += step {
		dst = append(dst, over+fragNHeader+min(off+step, total)-off)
	}
	return dst
}
