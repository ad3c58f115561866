package mqttsn

// Message is any MQTT-SN message.
type Message interface {
	// Type returns the MsgType.
	Type() MsgType
	// Len returns exactly the number of octets AppendBinary appends.
	Len() int
	// AppendBinary appends the whole encoded message (header included) to b.
	// It validates the message as decoding would and returns a *ParseError
	// (with b unchanged) for a message that must not be sent.
	AppendBinary(b []byte) ([]byte, error)
}

// Decoder is a Message that can decode itself from the start of b, returning
// the octets consumed. Every message type of this package implements it.
type Decoder interface {
	Message
	Decode(b []byte) (n int, err error)
}

// New returns a new zero message of type t: the typed message for v1.2 types
// and registered extensions, *Unknown otherwise.
func New(t MsgType) Decoder {
	switch t {
	case TypeAdvertise:
		return new(Advertise)
	case TypeSearchGW:
		return new(SearchGW)
	case TypeGWInfo:
		return new(GWInfo)
	case TypeConnect:
		return new(Connect)
	case TypeConnack:
		return new(Connack)
	case TypeWillTopicReq:
		return new(WillTopicReq)
	case TypeWillTopic:
		return new(WillTopic)
	case TypeWillMsgReq:
		return new(WillMsgReq)
	case TypeWillMsg:
		return new(WillMsg)
	case TypeRegister:
		return new(Register)
	case TypeRegack:
		return new(Regack)
	case TypePublish:
		return new(Publish)
	case TypePuback:
		return new(Puback)
	case TypePubcomp:
		return new(Pubcomp)
	case TypePubrec:
		return new(Pubrec)
	case TypePubrel:
		return new(Pubrel)
	case TypeSubscribe:
		return new(Subscribe)
	case TypeSuback:
		return new(Suback)
	case TypeUnsubscribe:
		return new(Unsubscribe)
	case TypeUnsuback:
		return new(Unsuback)
	case TypePingreq:
		return new(Pingreq)
	case TypePingresp:
		return new(Pingresp)
	case TypeDisconnect:
		return new(Disconnect)
	case TypeWillTopicUpd:
		return new(WillTopicUpd)
	case TypeWillTopicResp:
		return new(WillTopicResp)
	case TypeWillMsgUpd:
		return new(WillMsgUpd)
	case TypeWillMsgResp:
		return new(WillMsgResp)
	case TypeEncapsulated:
		return new(Encapsulated)
	}
	if e := extensions[t]; e.new != nil {
		return e.new()
	}
	return new(Unknown)
}

// Decode decodes the message at the start of b and returns it with the
// number of octets consumed. It allocates the message; its variable-length
// fields alias b. Reserved types without a registered extension decode to
// *Unknown. Trailing octets after the message are not examined; see
// DecodeDatagram.
func Decode(b []byte) (Message, int, error) {
	h, err := ReadHeader(b)
	if err != nil {
		return nil, 0, err
	}
	m := New(h.Type)
	n, err := m.Decode(b)
	if err != nil {
		return nil, 0, err
	}
	return m, n, nil
}

// DecodeDatagram decodes a datagram that must hold exactly one message
// (an Encapsulated message counts as one): octets after it fail with ErrTrailing.
func DecodeDatagram(b []byte) (Message, error) {
	m, n, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, perr(m.Type(), "Length", ErrTrailing)
	}
	return m, nil
}

// Marshal encodes m into a new slice of exactly m.Len() octets.
func Marshal(m Message) ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, m.Len()))
}
