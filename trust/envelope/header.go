package envelope

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Version is the envelope format version this package writes and reads.
const Version = 1

// HeaderLen is the size of the envelope header in octets.
const HeaderLen = 11

// Header is the cleartext part of an envelope. Every field is authenticated.
//
//	octet 0      Version (high nibble) | Suite id (low nibble)
//	octets 1-4   KeyID, big-endian: the TS-assigned id (epoch) of the key
//	octets 5-6   Sender, big-endian: the TS-assigned device number
//	octets 7-10  Seq, big-endian: 1, 2, 3, ... per key
type Header struct {
	Version uint8
	Suite   uint8 // aead.ID
	KeyID   uint32
	Sender  uint16
	Seq     uint32
}

// ErrMalformed is the sentinel of every ParseError.
var ErrMalformed = errors.New("envelope: malformed")

// ParseError says which field of an envelope could not be read.
type ParseError struct {
	Field  string
	Reason string
}

func (e *ParseError) Error() string { return "envelope: " + e.Field + ": " + e.Reason }

// Unwrap returns ErrMalformed.
func (e *ParseError) Unwrap() error { return ErrMalformed }

// AppendHeader appends the 11 header octets of h to b.
func AppendHeader(b []byte, h Header) []byte {
	b = append(b, h.Version<<4|h.Suite&0x0f)
	b = binary.BigEndian.AppendUint32(b, h.KeyID)
	b = binary.BigEndian.AppendUint16(b, h.Sender)
	return binary.BigEndian.AppendUint32(b, h.Seq)
}

// Parse reads the header of envelope b and returns it with the sealed part
// (ciphertext and tag), which aliases b. It checks only the format: version
// 1, a non-zero key id, sender and sequence number, and at least tagSize
// octets after the header (pass 0 when the suite is not known yet).
func Parse(b []byte, tagSize int) (Header, []byte, error) {
	if len(b) < HeaderLen {
		return Header{}, nil, &ParseError{"Header", "truncated at " + strconv.Itoa(len(b)) + " octets"}
	}
	h := Header{
		Version: b[0] >> 4,
		Suite:   b[0] & 0x0f,
		KeyID:   binary.BigEndian.Uint32(b[1:5]),
		Sender:  binary.BigEndian.Uint16(b[5:7]),
		Seq:     binary.BigEndian.Uint32(b[7:11]),
	}
	switch {
	case h.Version != Version:
		return Header{}, nil, &ParseError{"Version", "unsupported version " + strconv.Itoa(int(h.Version))}
	case h.Suite == 0:
		return Header{}, nil, &ParseError{"Suite", "zero"}
	case h.KeyID == 0:
		return Header{}, nil, &ParseError{"KeyID", "zero"}
	case h.Sender == 0:
		return Header{}, nil, &ParseError{"Sender", "zero"}
	case h.Seq == 0:
		return Header{}, nil, &ParseError{"Seq", "zero"}
	case len(b)-HeaderLen < tagSize:
		return Header{}, nil, &ParseError{"Tag", "truncated"}
	}
	return h, b[HeaderLen:], nil
}

// nonceDomain separates payload nonces from any other use of a nonce layout.
const nonceDomain = 0x50 // 'P'

// nonce writes the AEAD nonce for h into n (len(n) is the suite's nonce
// size, 0, 13 or 16): the domain octet, KeyID, Sender and Seq, then zeros.
// Because a key id is never reused, a key belongs to one sender, and Seq
// only grows, no nonce repeats under a key.
func nonce(n []byte, h Header) {
	if len(n) == 0 {
		return
	}
	var w [HeaderLen]byte
	w[0] = nonceDomain
	binary.BigEndian.PutUint32(w[1:5], h.KeyID)
	binary.BigEndian.PutUint16(w[5:7], h.Sender)
	binary.BigEndian.PutUint32(w[7:11], h.Seq)
	clear(n)
	copy(n, w[:])
}
