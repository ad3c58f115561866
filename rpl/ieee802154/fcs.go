package ieee802154

// FCSLen is the length of the frame check sequence.
const FCSLen = 2

// FCS computes the 802.15.4 frame check sequence over b: the ITU-T CRC-16
// with generator x^16 + x^12 + x^5 + 1, initial value 0, processed least
// significant bit first, no final XOR (IEEE 802.15.4-2006 §7.2.1.9; the
// "CRC-16/KERMIT" parameterisation). The result is sent least significant
// octet first.
func FCS(b []byte) uint16 {
	var crc uint16
	for _, v := range b {
		crc = crc>>8 ^ fcsTable[byte(crc)^v]
	}
	return crc
}

// fcsTable is the byte-at-a-time table of the reflected polynomial 0x8408
// (0x1021 bit-reversed).
var fcsTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// AppendFCS appends the FCS of b to b.
func AppendFCS(b []byte) []byte {
	c := FCS(b)
	return append(b, byte(c), byte(c>>8))
}

// CheckFCS reports whether the last two octets of psdu are the FCS of the rest.
func CheckFCS(psdu []byte) bool {
	if len(psdu) < FCSLen {
		return false
	}
	n := len(psdu) - FCSLen
	c := FCS(psdu[:n])
	return psdu[n] == byte(c) && psdu[n+1] == byte(c>>8)
}
