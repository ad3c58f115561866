// Package pcap writes and reads classic libpcap capture files, the format
// Wireshark and tshark open directly, so that the radio medium can record
// every frame it carries.
//
// Format (the tcpdump.org "pcap" file format, also draft-ietf-opsawg-pcap):
// a 24-octet file header (magic 0xa1b2c3d4 for microsecond or 0xa1b23c4d for
// nanosecond timestamps, version 2.4, snap length, link type) followed by
// records of a 16-octet header (seconds, sub-second, captured length,
// original length) and the packet bytes. The Writer writes in host-independent
// little-endian order; the Reader accepts either byte order and both
// timestamp resolutions.
//
// Link types (tcpdump.org LINKTYPE_ values) used by this project:
// LinkTypeIEEE802154WithFCS (195) for 802.15.4 frames including the FCS,
// LinkTypeIEEE802154NoFCS (230), LinkTypeIPv4 (228) and LinkTypeIPv6 (229)
// for raw IP packets, e.g. ZEP datagrams wrapped by AppendIPv4UDP.
//
// Ownership: Writer.WritePacket copies nothing it keeps; Reader.ReadPacket
// returns a slice that aliases an internal buffer valid until the next call.
package pcap
