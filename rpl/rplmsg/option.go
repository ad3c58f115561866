package rplmsg

// Option types (RFC 6550 §6.7, IANA "RPL Control Message Options").
const (
	OptPad1           uint8 = 0x00
	OptPadN           uint8 = 0x01
	OptMetric         uint8 = 0x02
	OptRouteInfo      uint8 = 0x03
	OptDODAGConfig    uint8 = 0x04
	OptTarget         uint8 = 0x05
	OptTransit        uint8 = 0x06
	OptSolicitedInfo  uint8 = 0x07
	OptPrefixInfo     uint8 = 0x08
	OptTargetDescript uint8 = 0x09
)

// Option is one RPL control message option. Len counts every octet
// AppendBinary appends, type and length octets included.
type Option interface {
	Type() uint8
	Len() int
	AppendBinary(b []byte) ([]byte, error)
}

// NextOption reads the option at the start of b (RFC 6550 §6.7.1: Pad1 is a
// single octet, every other option is type, length, body). It returns the
// type, the body (aliasing b) and the octets consumed, without allocating.
func NextOption(b []byte) (typ uint8, body []byte, n int, err error) {
	if len(b) == 0 {
		return 0, nil, 0, perr("option", "type", ErrTruncated)
	}
	if b[0] == OptPad1 {
		return OptPad1, nil, 1, nil
	}
	if len(b) < 2 {
		return b[0], nil, 0, perr("option", "length", ErrTruncated)
	}
	n = 2 + int(b[1])
	if len(b) < n {
		return b[0], nil, 0, perr(optName(b[0]), "body", ErrTruncated)
	}
	return b[0], b[2:n:n], n, nil
}

// DecodeOption decodes the option at the start of b into its typed form
// (UnknownOption for types this package does not know).
func DecodeOption(b []byte) (Option, int, error) {
	typ, body, n, err := NextOption(b)
	if err != nil {
		return nil, 0, err
	}
	var o Option
	switch typ {
	case OptPad1:
		return Pad1{}, 1, nil
	case OptPadN:
		o, err = decodePadN(body)
	case OptMetric:
		o = MetricContainer{Data: body}
	case OptRouteInfo:
		o, err = decodeRouteInfo(body)
	case OptDODAGConfig:
		o, err = decodeDODAGConfig(body)
	case OptTarget:
		o, err = decodeTarget(body)
	case OptTransit:
		o, err = decodeTransit(body)
	case OptSolicitedInfo:
		o, err = decodeSolicitedInfo(body)
	case OptPrefixInfo:
		o, err = decodePrefixInfo(body)
	default:
		o = UnknownOption{OptType: typ, Data: body}
	}
	if err != nil {
		return nil, 0, err
	}
	return o, n, nil
}

// DecodeOptions decodes every option in b (the rest of a message).
func DecodeOptions(b []byte) ([]Option, error) {
	var opts []Option
	for len(b) > 0 {
		o, n, err := DecodeOption(b)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
		b = b[n:]
	}
	return opts, nil
}

func appendOptions(b []byte, opts []Option) ([]byte, error) {
	for _, o := range opts {
		var err error
		if b, err = o.AppendBinary(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func optionsLen(opts []Option) int {
	n := 0
	for _, o := range opts {
		n += o.Len()
	}
	return n
}

func optName(t uint8) string {
	switch t {
	case OptPad1:
		return "Pad1"
	case OptPadN:
		return "PadN"
	case OptMetric:
		return "DAG Metric Container"
	case OptRouteInfo:
		return "Route Information"
	case OptDODAGConfig:
		return "DODAG Configuration"
	case OptTarget:
		return "RPL Target"
	case OptTransit:
		return "Transit Information"
	case OptSolicitedInfo:
		return "Solicited Information"
	case OptPrefixInfo:
		return "Prefix Information"
	}
	return "option"
}

// appendTL appends an option's type and length octets.
func appendTL(b []byte, typ uint8, bodyLen int) ([]byte, error) {
	if bodyLen > 255 {
		return b, perr(optName(typ), "length", ErrLength)
	}
	return append(b, typ, byte(bodyLen)), nil
}

// Pad1 is the one-octet padding option (RFC 6550 §6.7.2).
type Pad1 struct{}

func (Pad1) Type() uint8 { return OptPad1 }
func (Pad1) Len() int    { return 1 }

// AppendBinary appends the single zero octet.
func (Pad1) AppendBinary(b []byte) ([]byte, error) { return append(b, OptPad1), nil }

// PadN pads with N zero octets after its type and length (RFC 6550
// §6.7.3); N is 0 to 5.
type PadN struct{ N uint8 }

func (PadN) Type() uint8 { return OptPadN }
func (p PadN) Len() int  { return 2 + int(p.N) }

// AppendBinary appends the option.
func (p PadN) AppendBinary(b []byte) ([]byte, error) {
	if p.N > 5 {
		return b, perr("PadN", "length", ErrLength)
	}
	b = append(b, OptPadN, p.N)
	for range p.N {
		b = append(b, 0)
	}
	return b, nil
}

func decodePadN(body []byte) (Option, error) {
	if len(body) > 5 {
		return nil, perr("PadN", "length", ErrLength)
	}
	return PadN{N: uint8(len(body))}, nil
}

// MetricContainer is the DAG Metric Container option (RFC 6550 §6.7.4),
// kept opaque: Data holds the RFC 6551 metric objects and aliases the
// decoded input.
type MetricContainer struct{ Data []byte }

func (MetricContainer) Type() uint8 { return OptMetric }
func (m MetricContainer) Len() int  { return 2 + len(m.Data) }

// AppendBinary appends the option.
func (m MetricContainer) AppendBinary(b []byte) ([]byte, error) {
	b, err := appendTL(b, OptMetric, len(m.Data))
	if err != nil {
		return b, err
	}
	return append(b, m.Data...), nil
}

// UnknownOption keeps an option this package does not interpret. Data
// aliases the decoded input.
type UnknownOption struct {
	OptType uint8
	Data    []byte
}

func (u UnknownOption) Type() uint8 { return u.OptType }
func (u UnknownOption) Len() int    { return 2 + len(u.Data) }

// AppendBinary appends the option as it was received.
func (u UnknownOption) AppendBinary(b []byte) ([]byte, error) {
	if u.OptType == OptPad1 {
		return b, perr("option", "type", ErrInvalid)
	}
	b, err := appendTL(b, u.OptType, len(u.Data))
	if err != nil {
		return b, err
	}
	return append(b, u.Data...), nil
}
