package envelope

import (
	"math"
	"sync"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// Sealer seals a sender's payloads under one key, numbering them 1, 2, 3...
// It is safe for concurrent use.
type Sealer struct {
	key   *Key
	clock clock.Clock

	mu  sync.Mutex
	seq uint32 // last sequence number used
}

// NewSealer returns a Sealer for key. c tells the time for the expiry check
// (nil: the real clock).
func NewSealer(key *Key, c clock.Clock) *Sealer {
	if c == nil {
		c = clock.Real{}
	}
	return &Sealer{key: key, clock: c}
}

// Key returns the sealing key.
func (s *Sealer) Key() *Key { return s.key }

// Overhead is the number of octets an envelope adds to the plaintext.
func (s *Sealer) Overhead() int { return HeaderLen + s.key.Suite.TagSize() }

// Seal appends the envelope of plaintext, published on topic (the full MQTT
// topic name the subscriber will see), to dst. It fails with ErrExpiredKey
// once the key is past NotAfter, ErrWipedKey after Wipe, and ErrSeqExhausted
// after 2^32-1 messages; the caller then fetches a new key.
func (s *Sealer) Seal(dst []byte, topic string, plaintext []byte) ([]byte, error) {
	k := s.key
	if k.Expired(s.clock.Now()) {
		return dst, ErrExpiredKey
	}
	s.mu.Lock()
	if s.seq == math.MaxUint32 {
		s.mu.Unlock()
		return dst, ErrSeqExhausted
	}
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	h := Header{Version: Version, Suite: uint8(k.Suite.ID()), KeyID: k.ID, Sender: k.Sender, Seq: seq}
	start := len(dst)
	dst = AppendHeader(dst, h)
	sc := scratchPool.Get().(*scratch)
	defer putScratch(sc)
	n := sc.nonce[:k.Suite.NonceSize()]
	nonce(n, h)
	ad := sc.aad(dst[start:start+HeaderLen], topic)

	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return dst[:start], ErrWipedKey
	}
	return k.aead.Seal(dst, n, plaintext, ad), nil
}
