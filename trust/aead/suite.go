package aead

import (
	"crypto/cipher"
	"errors"
	"strconv"
)

// ID is a suite's number on the wire (4 bits in the payload envelope).
type ID uint8

// Suite numbers. They appear on the wire and never change meaning.
const (
	IDAscon128  ID = 1
	IDAES128CCM ID = 2
	IDPaperXOR  ID = 15
)

// Suite names, as accepted by Lookup and shown by the CLI.
const (
	NameAscon128  = "ascon128"
	NameAES128CCM = "aes128-ccm8"
	NamePaperXOR  = "paper-xor"
)

// Default is the suite used when none is named.
const Default = NameAscon128

// Suite describes one AEAD algorithm and makes keyed instances of it.
// Suites are immutable and safe for concurrent use.
type Suite struct {
	name      string
	id        ID
	keySize   int
	nonceSize int
	tagSize   int
	insecure  bool
	newAEAD   func(key []byte) (cipher.AEAD, error)
}

func (s *Suite) Name() string   { return s.name }
func (s *Suite) ID() ID         { return s.id }
func (s *Suite) KeySize() int   { return s.keySize }
func (s *Suite) NonceSize() int { return s.nonceSize }

// TagSize is the number of bytes Seal adds to the plaintext.
func (s *Suite) TagSize() int { return s.tagSize }

// Insecure reports whether the suite gives no real protection (paper-xor).
func (s *Suite) Insecure() bool { return s.insecure }

func (s *Suite) String() string { return s.name }

// New returns an AEAD keyed with key, which must be KeySize bytes long. The
// AEAD copies what it needs from key; the caller may wipe key afterwards.
// The returned AEAD is safe for concurrent use.
func (s *Suite) New(key []byte) (cipher.AEAD, error) {
	if len(key) != s.keySize {
		return nil, &KeySizeError{Suite: s.name, Got: len(key), Want: s.keySize}
	}
	return s.newAEAD(key)
}

// Options controls which suites Lookup will hand out.
type Options struct {
	// AllowInsecure must be set to obtain paper-xor; it exists only to
	// reproduce the paper's measurements.
	AllowInsecure bool
}

var (
	// ErrUnknownSuite is returned for a name or id no suite has.
	ErrUnknownSuite = errors.New("aead: unknown suite")
	// ErrInsecureSuite is returned when an insecure suite is asked for
	// without Options.AllowInsecure.
	ErrInsecureSuite = errors.New("aead: insecure suite refused (set AllowInsecure to reproduce the paper)")
	// ErrOpen is returned by Open when the ciphertext or its associated data
	// fail authentication. It says nothing more, on purpose.
	ErrOpen = errors.New("aead: message authentication failed")
)

// KeySizeError reports a key of the wrong length.
type KeySizeError struct {
	Suite     string
	Got, Want int
}

func (e *KeySizeError) Error() string {
	return "aead: " + e.Suite + ": key is " + strconv.Itoa(e.Got) + " bytes, want " + strconv.Itoa(e.Want)
}

var suites = []*Suite{
	{name: NameAscon128, id: IDAscon128, keySize: AsconKeySize, nonceSize: AsconNonceSize,
		tagSize: AsconTagSize, newAEAD: newAscon},
	{name: NameAES128CCM, id: IDAES128CCM, keySize: 16, nonceSize: CCMNonceSize,
		tagSize: CCM8TagSize, newAEAD: newAESCCM8},
	{name: NamePaperXOR, id: IDPaperXOR, keySize: PaperXORKeySize, nonceSize: 0,
		tagSize: 0, insecure: true, newAEAD: newPaperXOR},
}

// Lookup returns the suite called name. Insecure suites need opt.AllowInsecure.
func Lookup(name string, opt Options) (*Suite, error) {
	for _, s := range suites {
		if s.name == name {
			return checkInsecure(s, opt)
		}
	}
	return nil, ErrUnknownSuite
}

// ByID returns the suite numbered id. Insecure suites need opt.AllowInsecure.
func ByID(id ID, opt Options) (*Suite, error) {
	for _, s := range suites {
		if s.id == id {
			return checkInsecure(s, opt)
		}
	}
	return nil, ErrUnknownSuite
}

// Names lists every suite name, secure ones first.
func Names() []string {
	out := make([]string, len(suites))
	for i, s := range suites {
		out[i] = s.name
	}
	return out
}

func checkInsecure(s *Suite, opt Options) (*Suite, error) {
	if s.insecure && !opt.AllowInsecure {
		return nil, ErrInsecureSuite
	}
	return s, nil
}

// sliceForAppend extends in by n bytes, reusing its capacity when it can.
// head is the whole result and tail the n new bytes.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
