package keywrap

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// PSSLen is the size of a pre-shared secret: 128 bits.
const PSSLen = 16

// keyLen is the size of every derived key.
const keyLen = 16

// HKDF info labels (docs/protocol.md). Each is followed by a length octet
// and the principal's name.
const (
	labelRequest   = "lsmqtt/v1 request"
	labelWrap      = "lsmqtt/v1 key-wrap"
	labelAdmission = "lsmqtt/v1 admission"
	labelProof     = "lsmqtt/v1 proof"
)

// ErrPSS is returned for a pre-shared secret that is not PSSLen octets.
var ErrPSS = errors.New("keywrap: pre-shared secret must be 16 octets")

func info(label, name string) string {
	return label + string([]byte{byte(len(name))}) + name
}

// derive is HKDF-SHA256(secret=pss, salt, info) → 16 octets. RFC 5869 §2.
func derive(pss, salt []byte, label, name string) ([]byte, error) {
	if len(pss) != PSSLen {
		return nil, ErrPSS
	}
	return hkdf.Key(sha256.New, pss, salt, info(label, name), keyLen)
}

// RequestKey derives K_req, the MAC key of a principal's requests (and, for
// a gateway, of the TS's verdicts to it).
func RequestKey(pss []byte, name string) ([]byte, error) {
	return derive(pss, nil, labelRequest, name)
}

// WrapKey derives K_wrap for one key response: bound to the requester's
// name and to both nonces, so it is fresh for every response.
func WrapKey(pss, reqNonce, tsNonce []byte, name string) ([]byte, error) {
	salt := make([]byte, 0, len(reqNonce)+len(tsNonce))
	salt = append(append(salt, reqNonce...), tsNonce...)
	return derive(pss, salt, labelWrap, name)
}

// AdmitKey derives K_admit, the key of a node's admission proofs.
func AdmitKey(pss []byte, clientID string) ([]byte, error) {
	return derive(pss, nil, labelAdmission, clientID)
}

// MACLen is the size of a truncated HMAC-SHA256 tag.
const MACLen = 16

// MAC appends the first 16 octets of HMAC-SHA256(key, data) to dst.
func MAC(dst, key, data []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(data)
	var sum [sha256.Size]byte
	return append(dst, h.Sum(sum[:0])[:MACLen]...)
}

// VerifyMAC reports, in constant time, whether mac is MAC(key, data).
func VerifyMAC(key, data, mac []byte) bool {
	var buf [MACLen]byte
	want := MAC(buf[:0], key, data)
	return len(mac) == MACLen && subtle.ConstantTimeCompare(want, mac) == 1
}

// Wipe zeroes key material.
func Wipe(b ...[]byte) {
	for _, x := range b {
		clear(x)
	}
}
