// Package zep encodes and decodes the ZigBee Encapsulation Protocol (ZEP),
// which carries one IEEE 802.15.4 frame per UDP datagram between the
// emulated radios and the medium, and which Wireshark dissects on UDP port
// 17754.
//
// ZEP has no RFC; the layout follows Wireshark's dissector
// (epan/dissectors/packet-zep.c) and RIOT's sys/include/net/zep.h. All
// multi-octet fields are big-endian:
//
//	v2 data (type 1), 32-octet header:
//	  0  "EX" preamble          2  version (2)      3  type (1)
//	  4  channel                5  device id (2)    7  CRC/LQI mode (1 = CRC)
//	  8  LQI                    9  NTP timestamp (8)
//	  17 sequence number (4)    21 reserved (10)    31 length (7 bits)
//	  32 802.15.4 PSDU (length octets, including the FCS in CRC mode)
//	v2 ack (type 2), 8 octets: "EX" 2 2 sequence(4)
//	v1, 16-octet header: "EX" 1 channel device(2) mode LQI reserved(7) length
//
// In CRC mode (the mode this project sends) the last two frame octets are
// the 802.15.4 FCS; in LQI mode they are the CC24xx RSSI/LQI status octets.
//
// Ownership: Decode returns a Packet whose Frame aliases the input.
// AppendBinary never retains its argument. Nothing here panics on any input.
package zep
