package zep

import "encoding/binary"

// DefaultPort is the UDP port Wireshark dissects as ZEP.
const DefaultPort = 17754

// Packet types of ZEP v2.
const (
	TypeData uint8 = 1
	TypeAck  uint8 = 2
)

// Header lengths.
const (
	HeaderLenV1 = 16
	HeaderLenV2 = 32
	AckLen      = 8
)

// maxFrame is the largest 802.15.4 PSDU (aMaxPHYPacketSize); the length
// field has 7 bits.
const maxFrame = 127

// Packet is one ZEP packet. The zero Version means 2.
type Packet struct {
	Version  uint8  // 1 or 2 (0 encodes as 2)
	Type     uint8  // TypeData or TypeAck (v2 only; v1 is always data)
	Channel  uint8  // 802.15.4 channel, 11-26 on 2.4 GHz
	DeviceID uint16 // id of the sending/sniffing device
	CRCMode  bool   // true: Frame ends with the 802.15.4 FCS; false: RSSI/LQI octets
	LQI      uint8  // link quality indication (meaningful in LQI mode)
	NTP      uint64 // NTP timestamp (v2 data only); see NTPTime
	Seq      uint32 // sequence number (v2 only)
	// Frame is the 802.15.4 PSDU, at most 127 octets. After Decode it
	// aliases the input.
	Frame []byte
}

func (p *Packet) version() uint8 {
	if p.Version == 0 {
		return 2
	}
	return p.Version
}

// Len is the number of octets AppendBinary appends.
func (p *Packet) Len() int {
	switch {
	case p.version() == 1:
		return HeaderLenV1 + len(p.Frame)
	case p.Type == TypeAck:
		return AckLen
	}
	return HeaderLenV2 + len(p.Frame)
}

// AppendBinary appends the encoded packet to b.
func (p *Packet) AppendBinary(b []byte) ([]byte, error) {
	v := p.version()
	if v > 2 {
		return b, perr("version", ErrVersion)
	}
	if v == 2 && p.Type != TypeData && p.Type != TypeAck {
		return b, perr("type", ErrType)
	}
	if len(p.Frame) > maxFrame {
		return b, perr("length", ErrLength)
	}
	b = append(b, 'E', 'X', v)
	mode := byte(0)
	if p.CRCMode {
		mode = 1
	}
	if v == 1 {
		b = append(b, p.Channel, byte(p.DeviceID>>8), byte(p.DeviceID), mode, p.LQI,
			0, 0, 0, 0, 0, 0, 0, byte(len(p.Frame)))
		return append(b, p.Frame...), nil
	}
	b = append(b, p.Type)
	if p.Type == TypeAck {
		return binary.BigEndian.AppendUint32(b, p.Seq), nil
	}
	b = append(b, p.Channel, byte(p.DeviceID>>8), byte(p.DeviceID), mode, p.LQI)
	b = binary.BigEndian.AppendUint64(b, p.NTP)
	b = binary.BigEndian.AppendUint32(b, p.Seq)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(len(p.Frame)))
	return append(b, p.Frame...), nil
}

// Decode decodes one ZEP packet from the start of b and returns it with the
// number of octets consumed (header plus the length field's frame octets).
// A UDP datagram carries exactly one packet; callers may treat n < len(b)
// as an error. Frame aliases b.
func Decode(b []byte) (Packet, int, error) {
	if len(b) < 4 {
		return Packet{}, 0, perr("header", ErrTruncated)
	}
	if b[0] != 'E' || b[1] != 'X' {
		return Packet{}, 0, perr("preamble", ErrPreamble)
	}
	p := Packet{Version: b[2]}
	var hl int
	switch p.Version {
	case 1:
		if len(b) < HeaderLenV1 {
			return Packet{}, 0, perr("v1 header", ErrTruncated)
		}
		p.Type = TypeData
		p.Channel = b[3]
		p.DeviceID = binary.BigEndian.Uint16(b[4:])
		p.CRCMode = b[6] != 0
		p.LQI = b[7]
		hl = HeaderLenV1
	case 2:
		p.Type = b[3]
		switch p.Type {
		case TypeAck:
			if len(b) < AckLen {
				return Packet{}, 0, perr("ack", ErrTruncated)
			}
			p.Seq = binary.BigEndian.Uint32(b[4:])
			return p, AckLen, nil
		case TypeData:
		default:
			return Packet{}, 0, perr("type", ErrType)
		}
		if len(b) < HeaderLenV2 {
			return Packet{}, 0, perr("v2 header", ErrTruncated)
		}
		p.Channel = b[4]
		p.DeviceID = binary.BigEndian.Uint16(b[5:])
		p.CRCMode = b[7] != 0
		p.LQI = b[8]
		p.NTP = binary.BigEndian.Uint64(b[9:])
		p.Seq = binary.BigEndian.Uint32(b[17:])
		hl = HeaderLenV2
	default:
		return Packet{}, 0, perr("version", ErrVersion)
	}
	if b[hl-1] > maxFrame {
		return Packet{}, 0, perr("length", ErrLength)
	}
	n := hl + int(b[hl-1])
	if len(b) < n {
		return Packet{}, 0, perr("frame", ErrTruncated)
	}
	p.Frame = b[hl:n:n]
	return p, n, nil
}
