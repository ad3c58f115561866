// Package rplmsg encodes and decodes the RPL wire formats:
//
//   - RPL control messages, ICMPv6 type 155 (RFC 6550 §6): DIS (§6.2),
//     DIO (§6.3), DAO (§6.4) and DAO-ACK (§6.5); other codes (the secure
//     variants, Consistency Check) are kept as Unknown, never lost;
//   - their options (RFC 6550 §6.7): Pad1, PadN, DAG Metric Container
//     (opaque, RFC 6551), Route Information, DODAG Configuration, RPL
//     Target, Transit Information, Solicited Information and Prefix
//     Information; other option types are kept as UnknownOption;
//   - the ICMPv6 header (RFC 4443 §2.1) with its checksum over the IPv6
//     pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1);
//   - the RPL Source Routing Header (RFC 6554 §3) with CmprI/CmprE/Pad
//     compression against the IPv6 destination;
//   - the RPL Option carried in a Hop-by-Hop Options header (RFC 6553 §3),
//     option type 0x63 as Contiki-NG, RIOT and smoltcp send it (RFC 9008
//     renumbers it 0x23; both are accepted on decode).
//
// Every message and option has Len and AppendBinary (append-style encoding);
// decoders return the value and the octets consumed. Decoded byte slices
// (metric container data, unknown bodies) alias the input; addresses are
// copied into netip.Addr values. Nothing in this package panics on any
// input. Standard library only (plus this module's rpl/ipv6 for the
// checksum).
package rplmsg
