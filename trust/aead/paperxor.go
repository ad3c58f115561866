package aead

import (
	"crypto/cipher"
	"encoding/binary"
)

// PaperXORKeySize is the paper's 64-bit key. Bashir & Mir 2021 §6.4.1.
const PaperXORKeySize = 8

// paperXORStream is the PCG stream selector. The paper does not give one; we
// use 54, the stream of the pcg-c demonstration programs.
const paperXORStream = 54

// paperXOR reproduces the cipher of Bashir & Mir (2021) §4.1: the payload is
// XORed with a keystream from PCG32 seeded with the 64-bit session key
// (initstate = key read little-endian, initseq = 54), four bytes per output,
// little-endian. The paper specifies only "XOR with a 64-bit key from
// pcg-rand"; this is the most charitable reading.
//
// INSECURE, on purpose: there is no nonce (the same key gives the same
// keystream for every message, so two ciphertexts XOR to the XOR of their
// plaintexts), no integrity (Open never fails; flipped bits flip the
// plaintext), the associated data is ignored, and the key is only 64 bits.
type paperXOR struct{ seed uint64 }

func newPaperXOR(key []byte) (cipher.AEAD, error) {
	return &paperXOR{seed: binary.LittleEndian.Uint64(key)}, nil
}

func (x *paperXOR) NonceSize() int { return 0 }
func (x *paperXOR) Overhead() int  { return 0 }

func (x *paperXOR) xor(dst, src []byte) {
	var g PCG32
	g.Seed(x.seed, paperXORStream)
	for len(src) > 0 {
		var ks [4]byte
		binary.LittleEndian.PutUint32(ks[:], g.Uint32())
		n := min(len(src), 4)
		for i := 0; i < n; i++ {
			dst[i] = src[i] ^ ks[i]
		}
		dst, src = dst[n:], src[n:]
	}
}

// Seal appends plaintext XOR keystream to dst. nonce and ad are ignored.
func (x *paperXOR) Seal(dst, nonce, plaintext, ad []byte) []byte {
	ret, out := sliceForAppend(dst, len(plaintext))
	x.xor(out, plaintext)
	return ret
}

// Open appends ciphertext XOR keystream to dst. It cannot detect tampering
// and never fails.
func (x *paperXOR) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	ret, out := sliceForAppend(dst, len(ciphertext))
	x.xor(out, ciphertext)
	return ret, nil
}

// Wipe zeroes the key. The instance must not be used afterwards.
func (x *paperXOR) Wipe() { x.seed = 0 }
