package envelope

import (
	"errors"
	"strconv"
)

// Rejection sentinels. Receiver.Open returns one of these (possibly inside a
// *RejectError), and counts it under Reason(err).
var (
	ErrUnknownKey   = errors.New("envelope: unknown key")
	ErrExpiredKey   = errors.New("envelope: key expired")
	ErrWrongSender  = errors.New("envelope: sender does not own the key")
	ErrWrongSuite   = errors.New("envelope: suite does not match the key")
	ErrReplay       = errors.New("envelope: replayed or too old")
	ErrTampered     = errors.New("envelope: authentication failed")
	ErrSeqExhausted = errors.New("envelope: sequence numbers exhausted; rotate the key")
)

// RejectError carries the header fields of a rejected envelope (never the
// payload) for logs and for fetching an unknown key.
type RejectError struct {
	KeyID  uint32
	Sender uint16
	Seq    uint32
	Err    error
}

func (e *RejectError) Error() string {
	return e.Err.Error() + " (key " + strconv.FormatUint(uint64(e.KeyID), 10) +
		" sender " + strconv.Itoa(int(e.Sender)) + " seq " + strconv.FormatUint(uint64(e.Seq), 10) + ")"
}

func (e *RejectError) Unwrap() error { return e.Err }

// Reason returns a short metric label for a Receiver error, "" for nil.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrUnknownKey):
		return "unknown_key"
	case errors.Is(err, ErrExpiredKey):
		return "expired_key"
	case errors.Is(err, ErrWrongSender):
		return "wrong_sender"
	case errors.Is(err, ErrWrongSuite):
		return "wrong_suite"
	case errors.Is(err, ErrReplay):
		return "replay"
	case errors.Is(err, ErrTampered):
		return "tampered"
	case errors.Is(err, ErrWipedKey):
		return "wiped_key"
	default:
		return "other"
	}
}
