package rplmsg

import "net/netip"

// Target is the RPL Target option (RFC 6550 §6.7.7):
//
//	type 5 | len | flags | prefix length | target prefix (variable)
type Target struct {
	Flags     uint8
	PrefixLen uint8
	Prefix    netip.Addr
}

func (Target) Type() uint8 { return OptTarget }
func (t Target) Len() int  { return 4 + prefixOctets(t.PrefixLen) }

// AppendBinary appends the option with the shortest prefix field.
func (t Target) AppendBinary(b []byte) ([]byte, error) {
	if t.PrefixLen > 128 {
		return b, perr("RPL Target", "prefix length", ErrInvalid)
	}
	if !validAddr(t.Prefix) {
		return b, perr("RPL Target", "prefix", ErrAddress)
	}
	b = append(b, OptTarget, byte(t.Len()-2), t.Flags, t.PrefixLen)
	return appendPrefix(b, t.Prefix, t.PrefixLen), nil
}

func decodeTarget(body []byte) (Option, error) {
	const name = "RPL Target"
	if len(body) < 2 || len(body) > 2+16 {
		return nil, perr(name, "length", ErrLength)
	}
	t := Target{Flags: body[0], PrefixLen: body[1]}
	if t.PrefixLen > 128 || len(body)-2 < prefixOctets(t.PrefixLen) {
		return nil, perr(name, "prefix length", ErrInvalid)
	}
	// Octets past the prefix length are padding and ignored.
	t.Prefix = prefixFrom(body[2 : 2+prefixOctets(t.PrefixLen)])
	return t, nil
}
