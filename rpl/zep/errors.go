package zep

import "errors"

// Errors wrapped in a *ParseError by Decode and AppendBinary.
var (
	ErrTruncated = errors.New("zep: truncated packet")
	ErrPreamble  = errors.New(`zep: preamble is not "EX"`)
	ErrVersion   = errors.New("zep: unsupported version")
	ErrType      = errors.New("zep: unknown packet type")
	ErrLength    = errors.New("zep: bad frame length")
)

// ParseError names the field that failed.
type ParseError struct {
	Field string
	Err   error
}

func (e *ParseError) Error() string { return "zep: " + e.Field + ": " + e.Reason() }

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// Reason is a short, fixed label for counting failures by cause.
func (e *ParseError) Reason() string {
	s := e.Err.Error()
	if len(s) > 5 && s[:5] == "zep: " {
		return s[5:]
	}
	return s
}

func perr(field string, err error) error { return &ParseError{Field: field, Err: err} }
