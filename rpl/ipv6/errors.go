package ipv6

import "errors"

// Errors, wrapped in a *ParseError.
var (
	ErrTruncated = errors.New("ipv6: truncated")
	ErrVersion   = errors.New("ipv6: version is not 6")
	ErrAddress   = errors.New("ipv6: not an IPv6 address")
	ErrLength    = errors.New("ipv6: bad length")
	ErrChecksum  = errors.New("ipv6: bad checksum")
	ErrExtHeader = errors.New("ipv6: bad extension header")
)

// ParseError names the header and field that failed.
type ParseError struct {
	Header string // "ipv6", "udp", "extension"
	Field  string
	Err    error
}

func (e *ParseError) Error() string { return e.Header + ": " + e.Field + ": " + e.Reason() }

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// Reason is a short, fixed label for counting failures by cause.
func (e *ParseError) Reason() string {
	s := e.Err.Error()
	if len(s) > 6 && s[:6] == "ipv6: " {
		return s[6:]
	}
	return s
}

func perr(h, f string, err error) error { return &ParseError{Header: h, Field: f, Err: err} }
