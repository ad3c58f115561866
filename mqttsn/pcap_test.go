package mqttsn

import (
	"encoding/binary"
	"io"
)

// writePcap writes each payload as one IPv4/UDP datagram from 10.0.0.1:src
// to 10.0.0.2:dst in a classic pcap file (LINKTYPE_RAW: packets start with
// the IP header). Written by hand so the test needs no capture library.
func writePcap(w io.Writer, src, dst uint16, payloads [][]byte) error {
	var gh [24]byte
	binary.LittleEndian.PutUint32(gh[0:], 0xa1b2c3d4) // magic, microsecond timestamps
	binary.LittleEndian.PutUint16(gh[4:], 2)          // version 2.4
	binary.LittleEndian.PutUint16(gh[6:], 4)
	binary.LittleEndian.PutUint32(gh[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(gh[20:], 101)   // LINKTYPE_RAW
	if _, err := w.Write(gh[:]); err != nil {
		return err
	}
	for i, p := range payloads {
		pkt := ipv4UDP(src, dst, p)
		var rh [16]byte
		binary.LittleEndian.PutUint32(rh[0:], uint32(1700000000+i)) // ts seconds
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(pkt)))     // captured length
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(pkt)))    // original length
		if _, err := w.Write(rh[:]); err != nil {
			return err
		}
		if _, err := w.Write(pkt); err != nil {
			return err
		}
	}
	return nil
}

// ipv4UDP builds an IPv4 header (RFC 791, with checksum) and a UDP header
// (RFC 768; checksum 0 = none, allowed over IPv4) around payload.
func ipv4UDP(src, dst uint16, payload []byte) []byte {
	total := 20 + 8 + len(payload)
	b := make([]byte, 28, total)
	b[0] = 0x45 // version 4, IHL 5
	binary.BigEndian.PutUint16(b[2:], uint16(total))
	b[8] = 64 // TTL
	b[9] = 17 // UDP
	copy(b[12:], []byte{10, 0, 0, 1})
	copy(b[16:], []byte{10, 0, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(b[20:], src)
	binary.BigEndian.PutUint16(b[22:], dst)
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	return append(b, payload...)
}
