package envelope

import (
	"crypto/cipher"
	"errors"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/trust/aead"
)

// Key is one payload key as the TS hands it out: a fresh random key for
// one sender's session, identified by a never-reused id (its epoch), bound
// to a patient group and valid until NotAfter.
//
// Seal and Open may run concurrently; Wipe zeroes the material and makes
// every later use fail with ErrWipedKey.
type Key struct {
	ID       uint32
	Suite    *aead.Suite
	Sender   uint16 // the only sender allowed to use the key
	Group    string // the patient group the key protects
	NotAfter time.Time

	mu       sync.RWMutex
	material []byte
	aead     cipher.AEAD
}

// ErrWipedKey is returned for a key used after Wipe.
var ErrWipedKey = errors.New("envelope: key wiped")

// NewKey makes a Key from material, which it copies (the caller should wipe
// its own copy).
func NewKey(id uint32, suite *aead.Suite, material []byte, sender uint16, group string, notAfter time.Time) (*Key, error) {
	if id == 0 || sender == 0 {
		return nil, errors.New("envelope: key id and sender must be non-zero")
	}
	m := append([]byte(nil), material...)
	a, err := suite.New(m)
	if err != nil {
		clear(m)
		return nil, err
	}
	return &Key{ID: id, Suite: suite, Sender: sender, Group: group, NotAfter: notAfter, material: m, aead: a}, nil
}

// Material returns a copy of the key bytes (for wrapping them to a
// caregiver); nil once wiped.
func (k *Key) Material() []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.material == nil {
		return nil
	}
	return append([]byte(nil), k.material...)
}

// Expired reports whether the key is past NotAfter at now.
func (k *Key) Expired(now time.Time) bool { return now.After(k.NotAfter) }

// Wipe zeroes the key material and the expanded key where this package can
// reach it (the Ascon and paper-xor instances hold only the key words; the
// AES key schedule inside crypto/aes cannot be reached and is only dropped).
func (k *Key) Wipe() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.material)
	k.material = nil
	if w, ok := k.aead.(interface{ Wipe() }); ok {
		w.Wipe()
	}
	k.aead = nil
}

// Wiped reports whether Wipe was called.
func (k *Key) Wiped() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.aead == nil
}
