package pcap

// LinkType is a tcpdump.org LINKTYPE_ value naming the packets' first header.
type LinkType uint32

// Link types this project uses (https://www.tcpdump.org/linktypes.html).
const (
	LinkTypeEthernet          LinkType = 1
	LinkTypeRaw               LinkType = 101 // raw IPv4 or IPv6
	LinkTypeIEEE802154WithFCS LinkType = 195 // IEEE 802.15.4 MAC frame with 2-octet FCS
	LinkTypeIPv4              LinkType = 228
	LinkTypeIPv6              LinkType = 229
	LinkTypeIEEE802154NoFCS   LinkType = 230 // IEEE 802.15.4 MAC frame without FCS
)
