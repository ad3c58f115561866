package mqttsn

// HOForward carries messages the home gateway's broker routed to a node
// after its session left (lsmqtt extension 0xB7, docs/protocol.md
// "HO-FORWARD") to the gateway now serving it, which queues them for the
// node as if its own broker had delivered them. Seq numbers the forwards of
// one home gateway; the receiver acknowledges each with HO-FWDACK and
// ignores a Seq it has seen.
//
//	Length MsgType=0xB7 PeerHeader Seq(4) ClientLen(1) ClientId Count(2)
//	Message*Count MAC(16)
//
// Each Message is an HOMessage: Flags(1) TopicLen(2) Topic PayloadLen(2) Payload.
type HOForward struct {
	Hdr      PeerHeader
	Seq      uint32
	ClientID []byte
	Msgs     []HOMessage
	MAC      []byte
}

// HOMessage is an application message inside a handover record: a
// forwarded late arrival, or one of a session's queued messages.
//
//	Flags(1) TopicLen(2) Topic(1..) PayloadLen(2) Payload
//
// Flags: bits 0–1 QoS (0..2), bit 2 Retain, bit 3 Requeued (the node
// already refused its topic id once, MQTT-SN v1.2 §6.10); the others are
// reserved.
type HOMessage struct {
	QoS      byte
	Retain   bool
	Requeued bool
	Topic    []byte
	Payload  []byte
}

const (
	hoMsgQoS      = 0x03
	hoMsgRetain   = 0x04
	hoMsgRequeued = 0x08
)

func (m *HOMessage) len() int { return 1 + 2 + len(m.Topic) + 2 + len(m.Payload) }

func (m *HOMessage) check(t MsgType) error {
	if m.QoS > 2 {
		return perr(t, "Message", ErrQoS)
	}
	if err := checkTopicName(t, "Message", m.Topic); err != nil {
		return err
	}
	if len(m.Topic) > MaxLen || len(m.Payload) > MaxLen {
		return perr(t, "Message", ErrTooLong)
	}
	return nil
}

func (m *HOMessage) append(b []byte) []byte {
	f := m.QoS
	if m.Retain {
		f |= hoMsgRetain
	}
	if m.Requeued {
		f |= hoMsgRequeued
	}
	return appendBytes16(appendBytes16(append(b, f), m.Topic), m.Payload)
}

func (m *HOMessage) read(r *hoReader) {
	f := r.u8("Message")
	if r.err == nil && (f&^(hoMsgQoS|hoMsgRetain|hoMsgRequeued) != 0 || f&hoMsgQoS == 3) {
		r.fail("Message", ErrReservedFlags)
	}
	*m = HOMessage{QoS: f & hoMsgQoS, Retain: f&hoMsgRetain != 0, Requeued: f&hoMsgRequeued != 0}
	m.Topic = r.bytes16("Message")
	m.Payload = r.bytes16("Message")
	if r.err == nil {
		r.err = checkTopicName(r.t, "Message", m.Topic)
	}
}

func init() {
	RegisterExtension(TypeHOForward, "HO-FORWARD", func() Decoder { return new(HOForward) })
}

func (m *HOForward) Type() MsgType { return TypeHOForward }
func (m *HOForward) bodyLen() int {
	n := m.Hdr.len() + 4 + 1 + len(m.ClientID) + 2 + HOMACLen
	for i := range m.Msgs {
		n += m.Msgs[i].len()
	}
	return n
}
func (m *HOForward) Len() int { return MessageLen(m.bodyLen()) }

func (m *HOForward) AppendBinary(b []byte) ([]byte, error) {
	t := TypeHOForward
	if err := checkPeer(t, &m.Hdr, m.ClientID, m.MAC); err != nil {
		return b, err
	}
	if len(m.Msgs) > 0xFFFF {
		return b, perr(t, "Count", ErrTooLong)
	}
	for i := range m.Msgs {
		if err := m.Msgs[i].check(t); err != nil {
			return b, err
		}
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	b2 = append16(appendIdent(append32(m.Hdr.append(b2), m.Seq), m.ClientID), uint16(len(m.Msgs)))
	for i := range m.Msgs {
		b2 = m.Msgs[i].append(b2)
	}
	return append(b2, m.MAC...), nil
}

// Decode reads an HO-FORWARD. It allocates Msgs; every byte field aliases b.
func (m *HOForward) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOForward)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOForward, body: body}
	var v HOForward
	v.Hdr.read(&r)
	v.Seq = r.u32("Seq")
	v.ClientID = r.clientID()
	count := int(r.u16("Count"))
	for i := 0; i < count && r.err == nil; i++ {
		var msg HOMessage
		msg.read(&r)
		if r.err == nil {
			v.Msgs = append(v.Msgs, msg)
		}
	}
	v.MAC = r.mac()
	if r.err != nil {
		return 0, r.err
	}
	*m = v
	return n, nil
}
