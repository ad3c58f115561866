package mqttsn

// MsgType is the MsgType field of an MQTT-SN message (MQTT-SN v1.2 §5.2.2, Table 3).
type MsgType uint8

// Message types of MQTT-SN v1.2 (Table 3).
const (
	TypeAdvertise     MsgType = 0x00
	TypeSearchGW      MsgType = 0x01
	TypeGWInfo        MsgType = 0x02
	TypeConnect       MsgType = 0x04
	TypeConnack       MsgType = 0x05
	TypeWillTopicReq  MsgType = 0x06
	TypeWillTopic     MsgType = 0x07
	TypeWillMsgReq    MsgType = 0x08
	TypeWillMsg       MsgType = 0x09
	TypeRegister      MsgType = 0x0A
	TypeRegack        MsgType = 0x0B
	TypePublish       MsgType = 0x0C
	TypePuback        MsgType = 0x0D
	TypePubcomp       MsgType = 0x0E
	TypePubrec        MsgType = 0x0F
	TypePubrel        MsgType = 0x10
	TypeSubscribe     MsgType = 0x12
	TypeSuback        MsgType = 0x13
	TypeUnsubscribe   MsgType = 0x14
	TypeUnsuback      MsgType = 0x15
	TypePingreq       MsgType = 0x16
	TypePingresp      MsgType = 0x17
	TypeDisconnect    MsgType = 0x18
	TypeWillTopicUpd  MsgType = 0x1A
	TypeWillTopicResp MsgType = 0x1B
	TypeWillMsgUpd    MsgType = 0x1C
	TypeWillMsgResp   MsgType = 0x1D
	TypeEncapsulated  MsgType = 0xFE
)

var typeNames = [...]string{
	TypeAdvertise:     "ADVERTISE",
	TypeSearchGW:      "SEARCHGW",
	TypeGWInfo:        "GWINFO",
	TypeConnect:       "CONNECT",
	TypeConnack:       "CONNACK",
	TypeWillTopicReq:  "WILLTOPICREQ",
	TypeWillTopic:     "WILLTOPIC",
	TypeWillMsgReq:    "WILLMSGREQ",
	TypeWillMsg:       "WILLMSG",
	TypeRegister:      "REGISTER",
	TypeRegack:        "REGACK",
	TypePublish:       "PUBLISH",
	TypePuback:        "PUBACK",
	TypePubcomp:       "PUBCOMP",
	TypePubrec:        "PUBREC",
	TypePubrel:        "PUBREL",
	TypeSubscribe:     "SUBSCRIBE",
	TypeSuback:        "SUBACK",
	TypeUnsubscribe:   "UNSUBSCRIBE",
	TypeUnsuback:      "UNSUBACK",
	TypePingreq:       "PINGREQ",
	TypePingresp:      "PINGRESP",
	TypeDisconnect:    "DISCONNECT",
	TypeWillTopicUpd:  "WILLTOPICUPD",
	TypeWillTopicResp: "WILLTOPICRESP",
	TypeWillMsgUpd:    "WILLMSGUPD",
	TypeWillMsgResp:   "WILLMSGRESP",
}

// IsReserved reports whether v1.2 reserves t (0x03, 0x11, 0x19, 0x1E–0xFD,
// 0xFF; Table 3). Reserved types are where extension messages live.
func (t MsgType) IsReserved() bool {
	return t == 0x03 || t == 0x11 || t == 0x19 || (t >= 0x1E && t <= 0xFD) || t == 0xFF
}

// String returns the spec's name of t ("PUBLISH"), the registered name of an
// extension type, or "reserved(0xNN)".
func (t MsgType) String() string {
	if t == TypeEncapsulated {
		return "ENCAPSULATED"
	}
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	if e := extensions[t]; e.name != "" {
		return e.name
	}
	return "reserved(0x" + hex8(uint8(t)) + ")"
}

func hex8(v uint8) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>4], digits[v&0x0F]})
}
