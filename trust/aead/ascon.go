package aead

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
)

// Ascon-AEAD128 sizes. NIST SP 800-232 §4.
const (
	AsconKeySize   = 16
	AsconNonceSize = 16
	AsconTagSize   = 16
	asconRate      = 16 // bytes absorbed per Ascon-p[8] call (128-bit rate)
)

const (
	// asconIV is the Ascon-AEAD128 initial value placed in S0.
	// NIST SP 800-232 §4.1.1, Algorithm 3.
	asconIV uint64 = 0x00001000808c0001
	// asconDSep is the domain-separation bit 0^319 || 1 XORed into the state
	// after the associated data; with the standard's little-endian bit order
	// it is the top bit of S4. NIST SP 800-232 §4.1.2 and Appendix A.
	asconDSep uint64 = 1 << 63
)

// ascon is a keyed Ascon-AEAD128 instance. It holds only the key words, so
// it is safe for concurrent use.
type ascon struct{ k0, k1 uint64 }

func newAscon(key []byte) (cipher.AEAD, error) {
	// Bytes map to words little-endian. NIST SP 800-232 Appendix A.
	return &ascon{k0: binary.LittleEndian.Uint64(key[0:8]), k1: binary.LittleEndian.Uint64(key[8:16])}, nil
}

func (a *ascon) NonceSize() int { return AsconNonceSize }
func (a *ascon) Overhead() int  { return AsconTagSize }

// pad returns the padding word for a partial 8-byte word holding n bytes:
// a single 1 bit right after the data. NIST SP 800-232 §2.1 (pad), Appendix A.
func pad(n int) uint64 { return 1 << (8 * uint(n)) }

// loadPartial reads up to 8 bytes little-endian, zero-filling the rest.
func loadPartial(b []byte) uint64 {
	var w [8]byte
	copy(w[:], b)
	return binary.LittleEndian.Uint64(w[:])
}

// storePartial writes the low len(b) bytes of x into b, little-endian.
func storePartial(b []byte, x uint64) {
	for i := range b {
		b[i] = byte(x >> (8 * uint(i)))
	}
}

// start initialises the state from the key and nonce and absorbs the
// associated data. NIST SP 800-232 §4.1.1 (initialization) and §4.1.2
// (associated data).
func (a *ascon) start(nonce, ad []byte) asconState {
	if len(nonce) != AsconNonceSize {
		panic("aead: ascon128: nonce must be 16 bytes")
	}
	s := asconState{asconIV, a.k0, a.k1,
		binary.LittleEndian.Uint64(nonce[0:8]), binary.LittleEndian.Uint64(nonce[8:16])}
	s.permute(12)
	s[3] ^= a.k0
	s[4] ^= a.k1
	if len(ad) > 0 {
		for len(ad) >= asconRate {
			s[0] ^= binary.LittleEndian.Uint64(ad[0:8])
			s[1] ^= binary.LittleEndian.Uint64(ad[8:16])
			s.permute(8)
			ad = ad[asconRate:]
		}
		// The last block is always padded, even when it is empty.
		s.absorbPartial(ad)
		s.permute(8)
	}
	s[4] ^= asconDSep
	return s
}

// absorbPartial XORs a final block of fewer than 16 bytes plus its padding
// into the rate.
func (s *asconState) absorbPartial(b []byte) {
	if len(b) >= 8 {
		s[0] ^= binary.LittleEndian.Uint64(b[0:8])
		s[1] ^= loadPartial(b[8:]) ^ pad(len(b)-8)
	} else {
		s[0] ^= loadPartial(b) ^ pad(len(b))
	}
}

// finish computes the tag into tag. NIST SP 800-232 §4.1.4 (finalization).
func (a *ascon) finish(s *asconState, tag []byte) {
	s[2] ^= a.k0
	s[3] ^= a.k1
	s.permute(12)
	binary.LittleEndian.PutUint64(tag[0:8], s[3]^a.k0)
	binary.LittleEndian.PutUint64(tag[8:16], s[4]^a.k1)
}

// Seal encrypts and authenticates plaintext, authenticates ad, and appends
// ciphertext||tag to dst. dst may alias plaintext exactly (dst[:0]), never
// partially. NIST SP 800-232 Algorithm 3.
func (a *ascon) Seal(dst, nonce, plaintext, ad []byte) []byte {
	s := a.start(nonce, ad)
	ret, out := sliceForAppend(dst, len(plaintext)+AsconTagSize)
	p, c := plaintext, out
	// §4.1.3: full plaintext blocks, each followed by Ascon-p[8].
	for len(p) >= asconRate {
		s[0] ^= binary.LittleEndian.Uint64(p[0:8])
		s[1] ^= binary.LittleEndian.Uint64(p[8:16])
		binary.LittleEndian.PutUint64(c[0:8], s[0])
		binary.LittleEndian.PutUint64(c[8:16], s[1])
		s.permute(8)
		p, c = p[asconRate:], c[asconRate:]
	}
	// The last (possibly empty) block is padded and not permuted.
	n := len(p)
	s.absorbPartial(p)
	if n >= 8 {
		binary.LittleEndian.PutUint64(c[0:8], s[0])
		storePartial(c[8:n], s[1])
	} else {
		storePartial(c[:n], s[0])
	}
	a.finish(&s, c[n:n+AsconTagSize])
	return ret
}

// Open authenticates and decrypts ciphertext||tag and appends the plaintext
// to dst. On failure it returns ErrOpen and wipes what it wrote. dst may
// alias ciphertext exactly (dst[:0]). NIST SP 800-232 Algorithm 4.
func (a *ascon) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(ciphertext) < AsconTagSize {
		return nil, ErrOpen
	}
	tag := ciphertext[len(ciphertext)-AsconTagSize:]
	ciphertext = ciphertext[:len(ciphertext)-AsconTagSize]
	s := a.start(nonce, ad)
	ret, out := sliceForAppend(dst, len(ciphertext))
	c, p := ciphertext, out
	for len(c) >= asconRate {
		c0 := binary.LittleEndian.Uint64(c[0:8])
		c1 := binary.LittleEndian.Uint64(c[8:16])
		binary.LittleEndian.PutUint64(p[0:8], s[0]^c0)
		binary.LittleEndian.PutUint64(p[8:16], s[1]^c1)
		s[0], s[1] = c0, c1
		s.permute(8)
		c, p = c[asconRate:], p[asconRate:]
	}
	n := len(c)
	if n >= 8 {
		c0 := binary.LittleEndian.Uint64(c[0:8])
		c1 := loadPartial(c[8:n])
		binary.LittleEndian.PutUint64(p[0:8], s[0]^c0)
		storePartial(p[8:n], s[1]^c1)
		m := pad(n-8) - 1 // the bytes the ciphertext replaces
		s[0] = c0
		s[1] = (s[1] &^ m) | c1
		s[1] ^= pad(n - 8)
	} else {
		c0 := loadPartial(c[:n])
		storePartial(p[:n], s[0]^c0)
		m := pad(n) - 1
		s[0] = (s[0] &^ m) | c0
		s[0] ^= pad(n)
	}
	var want [AsconTagSize]byte
	a.finish(&s, want[:])
	if subtle.ConstantTimeCompare(want[:], tag) != 1 {
		clear(out)
		return nil, ErrOpen
	}
	return ret, nil
}

// Wipe zeroes the key words. The instance must not be used afterwards.
func (a *ascon) Wipe() { a.k0, a.k1 = 0, 0 }
