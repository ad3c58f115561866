package aead

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"sync"
)

// AES-CCM parameters used here: RFC 3610 §2 with L=2 (a 2-byte length field,
// so a 13-byte nonce and messages up to 65535 bytes).
const (
	CCMNonceSize = 13
	CCM8TagSize  = 8
	ccmL         = 2
	ccmMaxLen    = 1<<(8*ccmL) - 1
)

// ccm is AES-CCM (RFC 3610) over a block cipher, with tag size M and L=2.
// It is safe for concurrent use: per-call scratch blocks come from a pool,
// because passing stack arrays through the cipher.Block interface would make
// them escape to the heap.
type ccm struct {
	b       cipher.Block
	tagSize int
	scratch sync.Pool // *ccmScratch
}

type ccmScratch struct{ x, a, s [aes.BlockSize]byte }

func newAESCCM8(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return newCCM(b, CCM8TagSize), nil
}

// newCCM returns CCM over b with an M-byte tag (M in 4, 6, ..., 16).
func newCCM(b cipher.Block, tagSize int) *ccm {
	c := &ccm{b: b, tagSize: tagSize}
	c.scratch.New = func() any { return new(ccmScratch) }
	return c
}

func (c *ccm) NonceSize() int { return CCMNonceSize }
func (c *ccm) Overhead() int  { return c.tagSize }

// mac computes the CBC-MAC T of RFC 3610 §2.2 into sc.x (first tagSize
// bytes are T).
func (c *ccm) mac(sc *ccmScratch, nonce, plaintext, ad []byte) {
	x := &sc.x
	// B_0 = Flags || Nonce || l(m). Flags = 64*Adata + 8*M' + L',
	// M' = (M-2)/2, L' = L-1. RFC 3610 §2.2
	flags := byte((c.tagSize-2)/2<<3 | (ccmL - 1))
	if len(ad) > 0 {
		flags |= 0x40
	}
	x[0] = flags
	copy(x[1:14], nonce)
	binary.BigEndian.PutUint16(x[14:16], uint16(len(plaintext)))
	c.b.Encrypt(x[:], x[:])
	if len(ad) > 0 {
		// l(a) encoding: 2 bytes below 2^16-2^8, else 0xff 0xfe and 4 bytes.
		// RFC 3610 §2.2
		var hdr [6]byte
		h := hdr[:2]
		if len(ad) < 0xff00 {
			binary.BigEndian.PutUint16(h, uint16(len(ad)))
		} else {
			h = hdr[:6]
			h[0], h[1] = 0xff, 0xfe
			binary.BigEndian.PutUint32(h[2:], uint32(len(ad)))
		}
		// The first block holds the length encoding and the start of ad.
		i := subtle.XORBytes(x[:len(h)], x[:len(h)], h)
		n := min(len(ad), aes.BlockSize-i)
		subtle.XORBytes(x[i:i+n], x[i:i+n], ad[:n])
		c.b.Encrypt(x[:], x[:])
		c.cbcBlocks(x, ad[n:])
	}
	c.cbcBlocks(x, plaintext)
}

// cbcBlocks folds data into the CBC-MAC x, zero-padding the last block.
func (c *ccm) cbcBlocks(x *[aes.BlockSize]byte, data []byte) {
	for len(data) > 0 {
		n := min(len(data), aes.BlockSize)
		subtle.XORBytes(x[:n], x[:n], data[:n])
		c.b.Encrypt(x[:], x[:])
		data = data[n:]
	}
}

// ctr XORs src into dst with the key stream S_1, S_2, ... and leaves S_0 in
// sc.s. RFC 3610 §2.3: A_i = Flags || Nonce || Counter i, Flags = L'.
func (c *ccm) ctr(sc *ccmScratch, nonce, dst, src []byte) {
	a := &sc.a
	a[0] = ccmL - 1
	copy(a[1:14], nonce)
	a[14], a[15] = 0, 0
	c.b.Encrypt(sc.s[:], a[:]) // S_0, for the tag
	for i := uint16(1); len(src) > 0; i++ {
		binary.BigEndian.PutUint16(a[14:16], i)
		c.b.Encrypt(sc.x[:], a[:])
		n := subtle.XORBytes(dst, src, sc.x[:])
		dst, src = dst[n:], src[n:]
	}
}

// Seal appends ciphertext||U to dst, U = T XOR first-M-bytes(S_0).
// RFC 3610 §2.3.
func (c *ccm) Seal(dst, nonce, plaintext, ad []byte) []byte {
	if len(nonce) != CCMNonceSize {
		panic("aead: aes-ccm: nonce must be 13 bytes")
	}
	if len(plaintext) > ccmMaxLen {
		panic("aead: aes-ccm: plaintext longer than 65535 bytes")
	}
	sc := c.scratch.Get().(*ccmScratch)
	defer c.scratch.Put(sc)
	c.mac(sc, nonce, plaintext, ad)
	var t [aes.BlockSize]byte
	copy(t[:], sc.x[:c.tagSize])
	ret, out := sliceForAppend(dst, len(plaintext)+c.tagSize)
	c.ctr(sc, nonce, out[:len(plaintext)], plaintext)
	subtle.XORBytes(out[len(plaintext):], t[:c.tagSize], sc.s[:c.tagSize])
	return ret
}

// Open checks and decrypts ciphertext||U. RFC 3610 §2.5: the tag is checked
// before any plaintext is released; on failure what was written is wiped.
func (c *ccm) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	if len(nonce) != CCMNonceSize {
		panic("aead: aes-ccm: nonce must be 13 bytes")
	}
	if len(ciphertext) < c.tagSize || len(ciphertext)-c.tagSize > ccmMaxLen {
		return nil, ErrOpen
	}
	sc := c.scratch.Get().(*ccmScratch)
	defer c.scratch.Put(sc)
	n := len(ciphertext) - c.tagSize
	var u [aes.BlockSize]byte
	copy(u[:], ciphertext[n:])
	ret, out := sliceForAppend(dst, n)
	c.ctr(sc, nonce, out, ciphertext[:n])
	var t [aes.BlockSize]byte
	subtle.XORBytes(t[:c.tagSize], u[:c.tagSize], sc.s[:c.tagSize])
	c.mac(sc, nonce, out, ad)
	if subtle.ConstantTimeCompare(sc.x[:c.tagSize], t[:c.tagSize]) != 1 {
		clear(out)
		return nil, ErrOpen
	}
	return ret, nil
}
