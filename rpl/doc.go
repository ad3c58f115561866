// Package rpl is the root of lsmqtt's emulated low-power mesh: a
// 6LoWPAN/RPL radio stack faithful enough that Wireshark's stock dissectors
// decode every frame.
//
// Wire formats (standard library only, never panic, fuzzed):
//   - rpl/ieee802154: IEEE 802.15.4-2006 MAC frames with FCS
//   - rpl/zep: ZigBee Encapsulation Protocol v2, one frame per UDP datagram
//   - rpl/lowpan: RFC 6282 IPHC/NHC compression, RFC 4944 fragmentation
//     and bounded reassembly
//   - rpl/ipv6: the IPv6 fixed header, extension-header walk, UDP and the
//     pseudo-header checksum (RFC 8200, RFC 768)
//   - rpl/rplmsg: RPL control messages and options (RFC 6550 §6), the
//     source routing header (RFC 6554) and RPL option (RFC 6553)
//   - rpl/pcap: capture files Wireshark reads
//
// The medium, Trickle, objective functions, DODAG logic, node stack and
// border router build on these packages; docs/protocol.md ("Radio stack
// wire formats") documents the layouts.
package rpl
