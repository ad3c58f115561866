// Package ieee802154 encodes and decodes IEEE 802.15.4-2006 MAC frames
// (data, acknowledgment, beacon and MAC command frames) as carried by the
// emulated radio medium.
//
// Implemented (IEEE 802.15.4-2006 §7.2):
//   - the frame control field (§7.2.1.1), sequence number (§7.2.1.2),
//     destination/source PAN identifiers with PAN ID compression
//     (§7.2.1.1.5, §7.2.1.3, §7.2.1.5) and short (16-bit) or extended
//     (64-bit) addresses (§7.2.1.4, §7.2.1.6);
//   - the frame check sequence, the 16-bit ITU-T CRC (§7.2.1.9), sent least
//     significant octet first;
//   - the aMaxPHYPacketSize limit of 127 octets for the PSDU (§6.4.1).
//
// Frame versions 0 (802.15.4-2003) and 1 (802.15.4-2006) are accepted; frame
// version 2 (802.15.4-2015, with information elements) and frames with
// security enabled (the auxiliary security header, §7.6.2) are rejected with
// typed errors. Beacon and command payloads are kept as opaque bytes; the
// command identifier is the first payload octet (§7.3).
//
// Multi-octet fields are little-endian on the air (§7.2): an extended address
// 02:00:00:ff:fe:00:00:01 is sent as 01 00 00 fe ff 00 00 02. ExtAddr holds
// the address in the usual, most-significant-octet-first order.
//
// Ownership: Decode and DecodeNoFCS return a Frame whose Payload aliases the
// input slice; copy it if it must outlive the buffer. AppendBinary never
// retains its argument. Nothing in this package panics on any input.
package ieee802154
