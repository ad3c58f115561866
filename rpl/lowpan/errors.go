package lowpan

import "errors"

// Errors, wrapped in a *ParseError. Callers branch with errors.Is.
var (
	ErrTruncated   = errors.New("lowpan: truncated")
	ErrDispatch    = errors.New("lowpan: unsupported dispatch")
	ErrReserved    = errors.New("lowpan: reserved encoding")
	ErrContext     = errors.New("lowpan: unknown context")
	ErrNoLinkAddr  = errors.New("lowpan: address elided but no link-layer address")
	ErrLength      = errors.New("lowpan: inconsistent length")
	ErrUnsupported = errors.New("lowpan: unsupported header")
	ErrTooLarge    = errors.New("lowpan: datagram too large")
	ErrTooSmall    = errors.New("lowpan: MAC payload too small for the headers")
	ErrFragment    = errors.New("lowpan: bad fragment")
)

// ParseError names the part of the 6LoWPAN frame that failed.
type ParseError struct {
	Field string // e.g. "IPHC", "src address", "NHC UDP", "FRAGN"
	Err   error
}

func (e *ParseError) Error() string { return "lowpan: " + e.Field + ": " + e.Reason() }

// Unwrap returns the sentinel.
func (e *ParseError) Unwrap() error { return e.Err }

// Reason is a short, fixed label for counting failures by cause.
func (e *ParseError) Reason() string {
	s := e.Err.Error()
	if len(s) > 8 && s[:8] == "lowpan: " {
		return s[8:]
	}
	return s
}

func perr(field string, err error) error { return &ParseError{Field: field, Err: err} }
