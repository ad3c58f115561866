package energy

import (
	"errors"
	"testing"
)

func TestAsconRounds(t *testing.T) {
	for _, c := range []struct {
		pt, ad int
		want   uint64
	}{
		{0, 0, 24},   // init + final
		{15, 0, 24},  // one partial block: absorbed by finalisation
		{16, 0, 32},  // one full block + empty padded block
		{32, 0, 40},  // the facts table's 32-byte example
		{0, 1, 32},   // one padded AD block
		{0, 16, 40},  // a full AD block plus the padding block
		{10, 12, 32}, // our envelope: 12 bytes of AD, short payload
	} {
		if got := AsconRounds(c.pt, c.ad); got != c.want {
			t.Errorf("AsconRounds(%d, %d) = %d, want %d", c.pt, c.ad, got, c.want)
		}
	}
}

func TestCCMBlocks(t *testing.T) {
	for _, c := range []struct {
		pt, ad int
		want   uint64
	}{
		{0, 0, 2},   // B0 and A0
		{32, 0, 6},  // + 2 MAC + 2 CTR
		{32, 12, 7}, // + one AD block (2 + 12 bytes)
		{17, 14, 7}, // 16 bytes of AD incl. length: one block; 2 payload blocks each way
		{17, 15, 8}, // 17 bytes of AD incl. length: two blocks
	} {
		if got := CCMBlocks(c.pt, c.ad); got != c.want {
			t.Errorf("CCMBlocks(%d, %d) = %d, want %d", c.pt, c.ad, got, c.want)
		}
	}
}

// Cycle costs on the z1, computed by hand from its figures: AES block 4,061,
// key schedule 1,182, Ascon p6 3,520, 10 cycles per byte of data handling.
func TestCryptoCyclesZ1(t *testing.T) {
	p := z1(t)
	for _, c := range []struct {
		s      Suite
		op     Op
		pt, ad int
		want   uint64
	}{
		{PaperXOR, Seal, 32, 12, 32 * 10},               // AD ignored: the paper has none
		{Ascon128, Seal, 32, 0, 23467 + 320},            // 40 rounds × 3520/6 = 23,466.7
		{Ascon128, Open, 32, 12, (48*3520+3)/6 + 44*10}, // 48 rounds
		{AES128CCM8, Seal, 32, 0, 6*4061 + 1182 + 320},  // 6 blocks
		{AES128CCM8, Open, 32, 12, 7*4061 + 1182 + 440}, // 7 blocks
		{NoSuite, ECDH, 0, 0, 7933296},
		{NoSuite, ECDSASign, 0, 0, 21558723},
		{NoSuite, ECDSAVerify, 0, 0, 42781901},
		{NoSuite, Hash, 55, 0, 30000}, // 55 + 9 = 64: one block
		{NoSuite, Hash, 56, 0, 60000}, // two blocks
		{NoSuite, KDF, 0, 0, 240000},
	} {
		got, err := CryptoCycles(p, c.s, c.op, c.pt, c.ad)
		if err != nil || got != c.want {
			t.Errorf("CryptoCycles(%v, %v, %d, %d) = %d, %v; want %d", c.s, c.op, c.pt, c.ad, got, err, c.want)
		}
	}
	// With a hardware AES engine there is no software key schedule.
	q := p.Clone()
	q.Crypto.HardwareAESBlock = 50
	if got, _ := CryptoCycles(q, AES128CCM8, Seal, 32, 0); got != 6*50+320 {
		t.Errorf("hardware CCM = %d", got)
	}
}

func TestSuiteNames(t *testing.T) {
	for _, n := range []string{"paper-xor", "ascon128", "aes128-ccm8"} {
		s, err := ParseSuite(n)
		if err != nil || s.String() != n {
			t.Errorf("ParseSuite(%q) = %v, %v", n, s, err)
		}
	}
	for _, n := range []string{"none", "", "ASCON128", "cb-dtls"} {
		if _, err := ParseSuite(n); !errors.Is(err, ErrUnknownSuite) {
			t.Errorf("ParseSuite(%q) accepted", n)
		}
	}
	if Suite(99).String() == "" || Op(99).String() == "" || Hash.String() != "hash" {
		t.Error("String")
	}
	if _, err := CryptoCycles(z1(t), Ascon128, Op(99), 1, 1); !errors.Is(err, ErrUnknownSuite) {
		t.Error("unknown op accepted")
	}
}
