// Package lowpan adapts IPv6 packets to IEEE 802.15.4 frames: RFC 6282
// header compression (IPHC and NHC) and RFC 4944 fragmentation.
//
// Implemented:
//   - the dispatch octet (RFC 4944 §5.1, RFC 6282 §3.1): IPHC, uncompressed
//     IPv6 (0x41), FRAG1 and FRAGN; mesh, broadcast and HC1 headers are
//     rejected as unsupported;
//   - IPHC (RFC 6282 §3.1-3.2) in all TF, NH, HLIM, CID, SAC/SAM, M and
//     DAC/DAM modes, stateless and context-based, with up to 16 contexts
//     (context 0 is the area's /64 prefix);
//   - interface identifiers derived from the link-layer address (RFC 6282
//     §3.2.2 and RFC 4944 §6): the EUI-64 with the U/L bit inverted, or
//     0000:00ff:fe00:XXXX from a short address. The PAN identifier is NOT
//     placed in the IID (the RFC 4944 §6 variant some captures use, see
//     testdata/10-*), so short-address IIDs agree with RFC 6282, Contiki-NG
//     and RIOT;
//   - NHC for UDP (RFC 6282 §4.3: 4-, 8- and 16-bit ports, checksum inline;
//     an elided checksum is recomputed on decompression) and NHC for the
//     Hop-by-Hop, Routing and Destination Options extension headers (RFC
//     6282 §4.2), the latter carried opaquely so the RPL option (RFC 6553)
//     and source routing header (RFC 6554) pass through;
//   - FRAG1/FRAGN headers, a Fragmenter that splits a packet into payloads
//     that fit a MAC frame, and a bounded Reassembler with a timeout
//     (RFC 4944 §5.3).
//
// The compressor is canonical: it always picks the shortest encoding,
// never elides the UDP checksum or extension-header padding, and so
// re-encodes every canonical vector to its original bytes.
//
// Ownership: Compress and Decompress append to the slice they are given and
// never retain their inputs. The Reassembler returns a packet the caller
// owns. Nothing in this package panics on any input.
package lowpan
