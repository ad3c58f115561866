package keywrap

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strconv"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
)

// wrapSuite wraps every key, whatever the payload suite: Ascon-AEAD128.
var wrapSuite, _ = aead.Lookup(aead.NameAscon128, aead.Options{})

var zeroNonce [aead.AsconNonceSize]byte

// Errors of Request.Accept. Callers waiting for an answer ignore
// ErrNotForMe, ErrStale and ErrUnauthenticated and keep waiting: on-path
// attackers can send those, and believing them would be a denial of service.
var (
	// ErrNotForMe: the answer names another requester.
	ErrNotForMe = errors.New("keywrap: answer for another requester")
	// ErrStale: the answer echoes a nonce other than this request's (an old
	// answer replayed, or an answer to an earlier request).
	ErrStale = errors.New("keywrap: answer does not echo this request's nonce")
	// ErrAnswered: this request already accepted an answer.
	ErrAnswered = errors.New("keywrap: request already answered")
	// ErrUnauthenticated: a refusal without a tag (the TS did not know us, or
	// someone else made it up).
	ErrUnauthenticated = errors.New("keywrap: unauthenticated refusal")
	// ErrForged: the tag does not verify: the answer was forged or altered.
	ErrForged = errors.New("keywrap: answer does not authenticate")
	// ErrMismatch: an authentic answer about something other than what was asked.
	ErrMismatch = errors.New("keywrap: answer does not match the request")
	// ErrExpired: a fresh key that is already past NotAfter.
	ErrExpired = errors.New("keywrap: key already expired")
)

// RefusedError is an authenticated refusal by the TS.
type RefusedError struct{ Status mqttsn.TSStatus }

func (e *RefusedError) Error() string { return "keywrap: TS refused: " + e.Status.String() }

// Request is the requester's side of one key exchange. It is not safe for
// concurrent use.
type Request struct {
	pss      []byte
	name     string
	group    string
	fetch    bool
	suite    aead.ID
	keyID    uint32
	nonce    [mqttsn.TSNonceLen]byte
	answered bool
}

// NewKeyRequest starts a node's request for a fresh session key of suite
// for its group. pss is copied.
func NewKeyRequest(pss []byte, name, group string, suite aead.ID) (*Request, error) {
	return newRequest(pss, name, group, false, suite, 0)
}

// NewFetchRequest starts a caregiver's request for the existing key keyID
// of group. pss is copied.
func NewFetchRequest(pss []byte, name, group string, keyID uint32) (*Request, error) {
	return newRequest(pss, name, group, true, 0, keyID)
}

func newRequest(pss []byte, name, group string, fetch bool, suite aead.ID, keyID uint32) (*Request, error) {
	if len(pss) != PSSLen {
		return nil, ErrPSS
	}
	if !mqttsn.ValidTSName(name) || !mqttsn.ValidTSGroup(group) {
		return nil, errors.New("keywrap: invalid name or group")
	}
	r := &Request{pss: bytes.Clone(pss), name: name, group: group, fetch: fetch, suite: suite, keyID: keyID}
	if _, err := rand.Read(r.nonce[:]); err != nil {
		return nil, err
	}
	return r, nil
}

// Nonce returns the request's nonce (the gateway-independent correlation id).
func (r *Request) Nonce() []byte { return r.nonce[:] }

// Message returns the signed TS-KEYREQ to send (and resend on timeout: it
// is idempotent on the TS for a fetch; a repeated new-key request costs a
// key id, nothing more).
func (r *Request) Message() (*mqttsn.TSKeyRequest, error) {
	m := &mqttsn.TSKeyRequest{Fetch: r.fetch, Suite: uint8(r.suite), KeyID: r.keyID,
		Nonce: r.nonce[:], Name: []byte(r.name), Group: []byte(r.group)}
	k, err := RequestKey(r.pss, r.name)
	if err != nil {
		return nil, err
	}
	defer Wipe(k)
	m.MAC = MAC(nil, k, m.AppendAuthData(nil))
	return m, nil
}

// Accept checks an answer and, if it is the authentic, fresh, matching,
// unexpired answer to this request, returns the key it carries. opt says
// whether an insecure suite may be accepted (only when asked for by name).
func (r *Request) Accept(m *mqttsn.TSKeyResponse, now time.Time, opt aead.Options) (*envelope.Key, error) {
	if string(m.Name) != r.name {
		return nil, ErrNotForMe
	}
	if !bytes.Equal(m.ReqNonce, r.nonce[:]) {
		return nil, ErrStale
	}
	if r.answered {
		return nil, ErrAnswered
	}
	if m.Status != mqttsn.TSOK && len(m.Sealed) == 0 {
		return nil, ErrUnauthenticated
	}
	kw, err := WrapKey(r.pss, m.ReqNonce, m.TSNonce, r.name)
	if err != nil {
		return nil, err
	}
	a, _ := wrapSuite.New(kw)
	Wipe(kw)
	material, err := a.Open(nil, zeroNonce[:], m.Sealed, m.AppendAuthData(nil))
	if w, ok := a.(interface{ Wipe() }); ok {
		w.Wipe()
	}
	if err != nil {
		return nil, ErrForged
	}
	defer Wipe(material)
	r.answered = true
	if m.Status != mqttsn.TSOK {
		return nil, &RefusedError{Status: m.Status}
	}
	if m.Fetch != r.fetch || string(m.Group) != r.group ||
		(!r.fetch && aead.ID(m.Suite) != r.suite) || (r.fetch && m.KeyID != r.keyID) {
		return nil, ErrMismatch
	}
	notAfter := time.Unix(int64(m.NotAfter), 0)
	// A fresh key must still be valid. A fetched key may be past its expiry:
	// a caregiver fetches it to read messages sealed before then, and the
	// envelope receiver applies its own expiry rule to each message.
	if !r.fetch && !now.Before(notAfter) {
		return nil, ErrExpired
	}
	suite, err := aead.ByID(aead.ID(m.Suite), opt)
	if err != nil {
		return nil, err
	}
	if len(material) != suite.KeySize() {
		return nil, errors.New("keywrap: key material is " + strconv.Itoa(len(material)) + " octets for " + suite.Name())
	}
	return envelope.NewKey(m.KeyID, suite, material, m.Sender, r.group, notAfter)
}

// Wipe zeroes the request's copy of the pre-shared secret.
func (r *Request) Wipe() { Wipe(r.pss) }

// VerifyKeyRequest checks a TS-KEYREQ's MAC under the requester's K_req (TS side).
func VerifyKeyRequest(pss []byte, m *mqttsn.TSKeyRequest) bool {
	k, err := RequestKey(pss, string(m.Name))
	if err != nil {
		return false
	}
	defer Wipe(k)
	return VerifyMAC(k, m.AppendAuthData(nil), m.MAC)
}

// SealKeyResponse fills m.TSNonce with a fresh nonce and m.Sealed with the
// wrapped material (nil material: a refusal, tag only) under the
// requester's K_wrap (TS side). All other fields must be set first: they
// are the associated data.
func SealKeyResponse(pss []byte, m *mqttsn.TSKeyResponse, material []byte) error {
	m.TSNonce = make([]byte, mqttsn.TSNonceLen)
	if _, err := rand.Read(m.TSNonce); err != nil {
		return err
	}
	kw, err := WrapKey(pss, m.ReqNonce, m.TSNonce, string(m.Name))
	if err != nil {
		return err
	}
	a, _ := wrapSuite.New(kw)
	Wipe(kw)
	m.Sealed = a.Seal(nil, zeroNonce[:], material, m.AppendAuthData(nil))
	if w, ok := a.(interface{ Wipe() }); ok {
		w.Wipe()
	}
	return nil
}
