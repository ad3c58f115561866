package ieee802154

import "errors"

// Errors returned (wrapped in a *ParseError when decoding) by this package.
// Callers branch on them with errors.Is.
var (
	// ErrTruncated: the input ends before a field the frame control announces.
	ErrTruncated = errors.New("ieee802154: truncated frame")
	// ErrTooLong: the PSDU exceeds aMaxPHYPacketSize (127 octets, §6.4.1).
	ErrTooLong = errors.New("ieee802154: frame longer than 127 octets")
	// ErrBadFCS: the frame check sequence does not match (§7.2.1.9).
	ErrBadFCS = errors.New("ieee802154: bad FCS")
	// ErrAddrMode: a reserved addressing mode (01) or a PAN ID compression
	// bit that is invalid for the addressing modes present (§7.2.1.1.5).
	ErrAddrMode = errors.New("ieee802154: invalid addressing mode")
	// ErrUnsupported: security enabled, a reserved frame type or frame version 2+.
	ErrUnsupported = errors.New("ieee802154: unsupported frame")
)

// ParseError says which field of which frame type failed to decode or encode.
type ParseError struct {
	Type  FrameType // frame type from the frame control field, if it was read
	Field string    // the field being processed, e.g. "dst address"
	Err   error     // one of the Err* sentinels
}

func (e *ParseError) Error() string {
	return "ieee802154: " + e.Type.String() + " frame: " + e.Field + ": " + trimPrefix(e.Err.Error())
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// Reason is a short, fixed label for counting failures by cause.
func (e *ParseError) Reason() string { return e.Field + ": " + trimPrefix(e.Err.Error()) }

func trimPrefix(s string) string {
	const p = "ieee802154: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func perr(t FrameType, field string, err error) error {
	return &ParseError{Type: t, Field: field, Err: err}
}
