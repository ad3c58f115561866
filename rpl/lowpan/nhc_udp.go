package lowpan

// NHC UDP header compression, RFC 6282 §4.3:
//
//	1 1 1 1 0 C P P
//
// C=1: checksum elided; P: 00 both ports inline, 01 source inline and
// destination 0xF0XX (8 bits), 10 source 0xF0XX and destination inline,
// 11 both 0xF0BX (4 bits each). The length is always elided (§4.3.3).
const (
	nhcUDP     = 0xf0
	nhcUDPMask = 0xf8
	nhcUDPC    = 0x04
)

// appendNHCUDP compresses the 8-octet UDP header h (checksum kept inline).
func appendNHCUDP(b []byte, h []byte) []byte {
	sp := uint16(h[0])<<8 | uint16(h[1])
	dp := uint16(h[2])<<8 | uint16(h[3])
	switch {
	case sp&0xfff0 == 0xf0b0 && dp&0xfff0 == 0xf0b0:
		b = append(b, nhcUDP|3, byte(sp&15)<<4|byte(dp&15))
	case dp&0xff00 == 0xf000:
		b = append(b, nhcUDP|1, h[0], h[1], h[3])
	case sp&0xff00 == 0xf000:
		b = append(b, nhcUDP|2, h[1], h[2], h[3])
	default:
		b = append(b, nhcUDP, h[0], h[1], h[2], h[3])
	}
	return append(b, h[6], h[7])
}

// decompressNHCUDP appends the UDP header with a zero length (patched by the
// caller) and returns whether the checksum was elided.
func decompressNHCUDP(out, in []byte, off *int) ([]byte, bool, error) {
	const field = "NHC UDP"
	v, err := take(in, off, 1, field)
	if err != nil {
		return out, false, err
	}
	d := v[0]
	var sp, dp [2]byte
	switch d & 3 {
	case 0:
		p, err := take(in, off, 4, field)
		if err != nil {
			return out, false, err
		}
		sp, dp = [2]byte{p[0], p[1]}, [2]byte{p[2], p[3]}
	case 1:
		p, err := take(in, off, 3, field)
		if err != nil {
			return out, false, err
		}
		sp, dp = [2]byte{p[0], p[1]}, [2]byte{0xf0, p[2]}
	case 2:
		p, err := take(in, off, 3, field)
		if err != nil {
			return out, false, err
		}
		sp, dp = [2]byte{0xf0, p[0]}, [2]byte{p[1], p[2]}
	case 3:
		p, err := take(in, off, 1, field)
		if err != nil {
			return out, false, err
		}
		sp, dp = [2]byte{0xf0, 0xb0 | p[0]>>4}, [2]byte{0xf0, 0xb0 | p[0]&15}
	}
	out = append(out, sp[0], sp[1], dp[0], dp[1], 0, 0)
	elided := d&nhcUDPC != 0
	if elided {
		return append(out, 0, 0), true, nil
	}
	c, err := take(in, off, 2, field)
	if err != nil {
		return out, false, err
	}
	return append(out, c[0], c[1]), false, nil
}
