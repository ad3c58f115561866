package mqttsn

// QoS is a quality of service level: 0, 1, 2, or -1 (MQTT-SN v1.2 §5.3.4, §6.8).
type QoS int8

// QoS levels. QoSMinus1 is only valid in PUBLISH with a pre-defined topic id
// or a short topic name (§6.8).
const (
	QoSMinus1 QoS = -1
	QoS0      QoS = 0
	QoS1      QoS = 1
	QoS2      QoS = 2
)

// Valid reports whether q is -1, 0, 1 or 2.
func (q QoS) Valid() bool { return q >= -1 && q <= 2 }

func (q QoS) String() string {
	switch q {
	case QoSMinus1:
		return "-1"
	case QoS0:
		return "0"
	case QoS1:
		return "1"
	case QoS2:
		return "2"
	}
	return "invalid"
}

// TopicIDType tells what the TopicId/TopicName field holds (§5.3.4, §6.7).
type TopicIDType uint8

// Topic id types; 0b11 is reserved.
const (
	TopicIDNormal     TopicIDType = 0 // a registered topic id (or, in SUBSCRIBE/UNSUBSCRIBE, a topic name)
	TopicIDPredefined TopicIDType = 1 // a pre-defined topic id
	TopicIDShort      TopicIDType = 2 // a two-octet short topic name
)

func (t TopicIDType) String() string {
	switch t {
	case TopicIDNormal:
		return "normal"
	case TopicIDPredefined:
		return "predefined"
	case TopicIDShort:
		return "short"
	}
	return "reserved"
}

// Flags is the Flags octet (§5.3.4, Table 4):
// DUP (bit 7), QoS (6,5), Retain (4), Will (3), CleanSession (2), TopicIdType (1,0).
// Messages carry these as typed fields; Flags is for code that builds or
// inspects the octet directly, such as extension messages and tests.
type Flags uint8

// Single-bit flags.
const (
	FlagDUP          Flags = 1 << 7
	FlagRetain       Flags = 1 << 4
	FlagWill         Flags = 1 << 3
	FlagCleanSession Flags = 1 << 2

	flagQoSMask         Flags = 0x60
	flagTopicIDTypeMask Flags = 0x03
)

// NewFlags builds a Flags octet. q must be valid and t at most 3.
func NewFlags(dup bool, q QoS, retain, will, clean bool, t TopicIDType) Flags {
	f := Flags(uint8(q)&3)<<5 | Flags(t&3)
	if dup {
		f |= FlagDUP
	}
	if retain {
		f |= FlagRetain
	}
	if will {
		f |= FlagWill
	}
	if clean {
		f |= FlagCleanSession
	}
	return f
}

func (f Flags) DUP() bool          { return f&FlagDUP != 0 }
func (f Flags) Retain() bool       { return f&FlagRetain != 0 }
func (f Flags) Will() bool         { return f&FlagWill != 0 }
func (f Flags) CleanSession() bool { return f&FlagCleanSession != 0 }

// QoS decodes bits 6,5; 0b11 is QoS -1.
func (f Flags) QoS() QoS {
	v := (f & flagQoSMask) >> 5
	if v == 3 {
		return QoSMinus1
	}
	return QoS(v)
}

// TopicIDType returns bits 1,0 (3 is reserved).
func (f Flags) TopicIDType() TopicIDType { return TopicIDType(f & flagTopicIDTypeMask) }

// ShortTopicID packs a two-character short topic name into the TopicId field
// (§6.7). ok is false unless name is exactly two octets.
func ShortTopicID(name string) (id uint16, ok bool) {
	if len(name) != 2 {
		return 0, false
	}
	return uint16(name[0])<<8 | uint16(name[1]), true
}

// ShortTopicName is the inverse of ShortTopicID.
func ShortTopicName(id uint16) string { return string([]byte{byte(id >> 8), byte(id)}) }

// qosBits encodes q into bits 6,5.
func qosBits(q QoS) byte { return (uint8(q) & 3) << 5 }

func boolBit(v bool, bit Flags) byte {
	if v {
		return byte(bit)
	}
	return 0
}
