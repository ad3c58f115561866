package aead

import (
	"bytes"
	"errors"
	"testing"
)

// TestPCG32Reference checks the generator against the first outputs of the
// pcg-c demonstration (pcg32-demo: pcg32_srandom_r(&rng, 42, 54)), printed
// as "0xa15c02b7 0x7b47f409 0xba1d3330 0x83d2f293 0xbfa4784b 0xcbed606e".
func TestPCG32Reference(t *testing.T) {
	g := NewPCG32(42, 54)
	want := []uint32{0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e}
	for i, w := range want {
		if got := g.Uint32(); got != w {
			t.Fatalf("output %d = %#x, want %#x", i, got, w)
		}
	}
}

func TestPaperXORRefusedUnlessAsked(t *testing.T) {
	if _, err := Lookup(NamePaperXOR, Options{}); !errors.Is(err, ErrInsecureSuite) {
		t.Fatalf("Lookup without AllowInsecure: err = %v, want ErrInsecureSuite", err)
	}
	if _, err := ByID(IDPaperXOR, Options{}); !errors.Is(err, ErrInsecureSuite) {
		t.Fatalf("ByID without AllowInsecure: err = %v, want ErrInsecureSuite", err)
	}
	s, err := Lookup(NamePaperXOR, Options{AllowInsecure: true})
	if err != nil || !s.Insecure() {
		t.Fatalf("Lookup with AllowInsecure: %v, %v", s, err)
	}
}

// TestPaperXORWeaknesses demonstrates, as executable facts, what
// docs/security.md says about the paper's cipher.
func TestPaperXORWeaknesses(t *testing.T) {
	s, _ := Lookup(NamePaperXOR, Options{AllowInsecure: true})
	key := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	a, err := s.New(key)
	if err != nil {
		t.Fatal(err)
	}
	p1 := []byte("HR=072;SpO2=98;T=36.9")
	p2 := []byte("HR=140;SpO2=85;T=39.5")
	c1 := a.Seal(nil, nil, p1, []byte("topic/a"))
	c2 := a.Seal(nil, nil, p2, []byte("topic/b"))
	// Decrypts, so it is a cipher at all.
	if back, _ := a.Open(nil, nil, c1, nil); !bytes.Equal(back, p1) {
		t.Fatalf("round trip = %q", back)
	}
	if bytes.Equal(c1, p1) {
		t.Fatal("ciphertext equals plaintext")
	}
	// No nonce: c1 XOR c2 == p1 XOR p2 (two-time pad).
	for i := range c1 {
		if c1[i]^c2[i] != p1[i]^p2[i] {
			t.Fatalf("byte %d: keystream differs between messages", i)
		}
	}
	// No integrity: a flipped bit is accepted and flips the plaintext.
	c1[3] ^= '0' ^ '1' // "072" -> "172"
	back, err := a.Open(nil, nil, c1, nil)
	if err != nil || string(back[:6]) != "HR=172" {
		t.Fatalf("forged message: %q, %v", back, err)
	}
	// Known plaintext gives the keystream, hence every other message.
	ks := make([]byte, len(p1))
	for i := range ks {
		ks[i] = c2[i] ^ p2[i]
	}
	c3 := a.Seal(nil, nil, []byte("HR=099;SpO2=91;T=37.0"), nil)
	for i := range c3 {
		c3[i] ^= ks[i]
	}
	if string(c3) != "HR=099;SpO2=91;T=37.0" {
		t.Fatalf("keystream reuse not demonstrated: %q", c3)
	}
}
