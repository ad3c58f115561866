package rplmsg

import "errors"

// Errors, wrapped in a *ParseError. Callers branch with errors.Is.
var (
	ErrTruncated = errors.New("rplmsg: truncated")
	ErrType      = errors.New("rplmsg: not an RPL control message")
	ErrLength    = errors.New("rplmsg: bad length")
	ErrChecksum  = errors.New("rplmsg: bad ICMPv6 checksum")
	ErrAddress   = errors.New("rplmsg: not an IPv6 address")
	ErrInvalid   = errors.New("rplmsg: invalid field value")
)

// ParseError names the message (or header) and the field that failed.
type ParseError struct {
	Msg   string // "DIO", "DAO", "option 4", "SRH", ...
	Field string
	Err   error
}

func (e *ParseError) Error() string { return "rplmsg: " + e.Msg + ": " + e.Field + ": " + e.Reason() }

// Unwrap returns the sentinel.
func (e *ParseError) Unwrap() error { return e.Err }

// Reason is a short, fixed label for counting failures by cause.
func (e *ParseError) Reason() string {
	s := e.Err.Error()
	if len(s) > 8 && s[:8] == "rplmsg: " {
		return s[8:]
	}
	return s
}

func perr(msg, field string, err error) error { return &ParseError{Msg: msg, Field: field, Err: err} }
