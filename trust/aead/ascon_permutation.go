package aead

import "math/bits"

// asconState is the 320-bit Ascon state as five 64-bit words S0..S4.
// NIST SP 800-232 §3.
type asconState [5]uint64

// asconRC are the round constants of the constant-addition layer p_C for
// the 12 rounds of Ascon-p[12]; Ascon-p[8] uses the last eight.
// NIST SP 800-232 §3.2, Table 5.
var asconRC = [12]uint64{0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b}

// permute applies Ascon-p[rounds] (rounds is 8 or 12). NIST SP 800-232 §3.
func (s *asconState) permute(rounds int) {
	x0, x1, x2, x3, x4 := s[0], s[1], s[2], s[3], s[4]
	for _, c := range asconRC[12-rounds:] {
		// p_C: constant addition to S2. §3.2
		x2 ^= c
		// p_S: the 5-bit S-box applied to every bit slice, bitsliced. §3.3
		x0 ^= x4
		x4 ^= x3
		x2 ^= x1
		t0 := ^x0 & x1
		t1 := ^x1 & x2
		t2 := ^x2 & x3
		t3 := ^x3 & x4
		t4 := ^x4 & x0
		x0 ^= t1
		x1 ^= t2
		x2 ^= t3
		x3 ^= t4
		x4 ^= t0
		x1 ^= x0
		x0 ^= x4
		x3 ^= x2
		x2 = ^x2
		// p_L: linear diffusion of each word. §3.4
		x0 ^= bits.RotateLeft64(x0, -19) ^ bits.RotateLeft64(x0, -28)
		x1 ^= bits.RotateLeft64(x1, -61) ^ bits.RotateLeft64(x1, -39)
		x2 ^= bits.RotateLeft64(x2, -1) ^ bits.RotateLeft64(x2, -6)
		x3 ^= bits.RotateLeft64(x3, -10) ^ bits.RotateLeft64(x3, -17)
		x4 ^= bits.RotateLeft64(x4, -7) ^ bits.RotateLeft64(x4, -41)
	}
	s[0], s[1], s[2], s[3], s[4] = x0, x1, x2, x3, x4
}
