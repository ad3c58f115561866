package mqttsn

// Golden vectors for every MQTT-SN v1.2 message type, written octet by octet
// from the tables of MQTT-SN v1.2 §5.4 (the spec has no hex examples; the
// field layouts are its Tables 6–29). Each vector decodes to msg and msg
// encodes to exactly these octets.

type golden struct {
	name string
	b    []byte
	msg  Message
}

var goldens = []golden{
	{"ADVERTISE", []byte{
		0x05,       // Length 5
		0x00,       // MsgType ADVERTISE
		0x01,       // GwId 1
		0x03, 0x84, // Duration 900 s (Table 30: TADV > 15 min)
	}, &Advertise{GWID: 1, Duration: 900}},
	{"SEARCHGW", []byte{
		0x03, // Length 3
		0x01, // MsgType SEARCHGW
		0x01, // Radius 1 hop
	}, &SearchGW{Radius: 1}},
	{"GWINFO from gateway", []byte{
		0x03, // Length 3
		0x02, // MsgType GWINFO
		0x07, // GwId 7, no GwAdd (sent by a gateway)
	}, &GWInfo{GWID: 7}},
	{"GWINFO from client", []byte{
		0x05,       // Length 5
		0x02,       // MsgType GWINFO
		0x07,       // GwId 7
		0xab, 0xcd, // GwAdd: a 2-octet (ZigBee-style) address
	}, &GWInfo{GWID: 7, GWAdd: []byte{0xab, 0xcd}}},
	{"CONNECT", []byte{
		0x0c,       // Length 12
		0x04,       // MsgType CONNECT
		0x0c,       // Flags: Will (bit 3) | CleanSession (bit 2)
		0x01,       // ProtocolId 0x01
		0x00, 0x3c, // Duration: keep-alive 60 s
		's', 'e', 'n', 's', 'o', 'r', // ClientId "sensor"
	}, &Connect{Will: true, CleanSession: true, Duration: 60, ClientID: []byte("sensor")}},
	{"CONNECT 23-octet client id, no flags", append([]byte{
		0x1d,       // Length 29
		0x04,       // MsgType CONNECT
		0x00,       // Flags: none (persistent session, no will)
		0x01,       // ProtocolId
		0xff, 0xff, // Duration 65535 s
	}, "abcdefghijklmnopqrstuvw"...), // ClientId: 23 octets, the maximum
		&Connect{Duration: 0xffff, ClientID: []byte("abcdefghijklmnopqrstuvw")}},
	{"CONNACK accepted", []byte{
		0x03, // Length 3
		0x05, // MsgType CONNACK
		0x00, // ReturnCode accepted
	}, &Connack{ReturnCode: Accepted}},
	{"CONNACK congestion", []byte{
		0x03, // Length 3
		0x05, // MsgType CONNACK
		0x01, // ReturnCode rejected: congestion
	}, &Connack{ReturnCode: RejectedCongestion}},
	{"WILLTOPICREQ", []byte{
		0x02, // Length 2
		0x06, // MsgType WILLTOPICREQ
	}, &WillTopicReq{}},
	{"WILLTOPIC", []byte{
		0x0b,                                   // Length 11
		0x07,                                   // MsgType WILLTOPIC
		0x30,                                   // Flags: QoS 1 (bits 6,5 = 01) | Retain (bit 4)
		'w', 'a', 'r', 'd', '/', '1', '/', 'x', // WillTopic "ward/1/x"
	}, &WillTopic{QoS: QoS1, Retain: true, Topic: []byte("ward/1/x")}},
	{"WILLTOPIC empty (delete will)", []byte{
		0x02, // Length 2: no Flags, no WillTopic (§5.4.7)
		0x07, // MsgType WILLTOPIC
	}, &WillTopic{}},
	{"WILLMSGREQ", []byte{
		0x02, // Length 2
		0x08, // MsgType WILLMSGREQ
	}, &WillMsgReq{}},
	{"WILLMSG", []byte{
		0x06,               // Length 6
		0x09,               // MsgType WILLMSG
		'l', 'o', 's', 't', // WillMsg "lost"
	}, &WillMsg{Msg: []byte("lost")}},
	{"REGISTER from client", []byte{
		0x0f,       // Length 15
		0x0a,       // MsgType REGISTER
		0x00, 0x00, // TopicId 0x0000 (client)
		0x00, 0x01, // MsgId 1
		'w', 'a', 'r', 'd', '/', '1', '/', 'h', 'r', // TopicName "ward/1/hr"
	}, &Register{MsgID: 1, TopicName: []byte("ward/1/hr")}},
	{"REGACK", []byte{
		0x07,       // Length 7
		0x0b,       // MsgType REGACK
		0x00, 0x05, // TopicId 5
		0x00, 0x01, // MsgId 1
		0x00, // ReturnCode accepted
	}, &Regack{TopicID: 5, MsgID: 1}},
	{"PUBLISH QoS 1 normal", []byte{
		0x09,       // Length 9
		0x0c,       // MsgType PUBLISH
		0x20,       // Flags: QoS 1, TopicIdType normal
		0x00, 0x05, // TopicId 5
		0x00, 0x02, // MsgId 2
		'7', '2', // Data "72"
	}, &Publish{QoS: QoS1, TopicID: 5, MsgID: 2, Data: []byte("72")}},
	{"PUBLISH QoS 0 retained predefined", []byte{
		0x08,       // Length 8
		0x0c,       // MsgType PUBLISH
		0x11,       // Flags: QoS 0, Retain, TopicIdType pre-defined (01)
		0x00, 0x01, // TopicId 1
		0x00, 0x00, // MsgId 0 (QoS 0)
		0x2a, // Data
	}, &Publish{Retain: true, TopicIDType: TopicIDPredefined, TopicID: 1, Data: []byte{0x2a}}},
	{"PUBLISH QoS -1 short topic", []byte{
		0x0a,     // Length 10
		0x0c,     // MsgType PUBLISH
		0x62,     // Flags: QoS -1 (bits 6,5 = 11), TopicIdType short (10)
		'h', 'r', // TopicId: short topic name "hr"
		0x00, 0x00, // MsgId 0
		'7', '2', '!', // Data "72!"
	}, &Publish{QoS: QoSMinus1, TopicIDType: TopicIDShort, TopicID: 0x6872, Data: []byte("72!")}},
	{"PUBLISH QoS 2 DUP empty data", []byte{
		0x07,       // Length 7
		0x0c,       // MsgType PUBLISH
		0xc0,       // Flags: DUP (bit 7), QoS 2 (bits 6,5 = 10)
		0x00, 0x05, // TopicId 5
		0x12, 0x34, // MsgId 0x1234
	}, &Publish{DUP: true, QoS: QoS2, TopicID: 5, MsgID: 0x1234}},
	{"PUBACK invalid topic id", []byte{
		0x07,       // Length 7
		0x0d,       // MsgType PUBACK
		0x00, 0x05, // TopicId 5
		0x00, 0x02, // MsgId 2
		0x02, // ReturnCode rejected: invalid topic ID
	}, &Puback{TopicID: 5, MsgID: 2, ReturnCode: RejectedInvalidTopicID}},
	{"PUBCOMP", []byte{
		0x04,       // Length 4
		0x0e,       // MsgType PUBCOMP
		0x12, 0x34, // MsgId 0x1234
	}, &Pubcomp{MsgID: 0x1234}},
	{"PUBREC", []byte{
		0x04,       // Length 4
		0x0f,       // MsgType PUBREC
		0x12, 0x34, // MsgId 0x1234
	}, &Pubrec{MsgID: 0x1234}},
	{"PUBREL", []byte{
		0x04,       // Length 4
		0x10,       // MsgType PUBREL
		0x12, 0x34, // MsgId 0x1234
	}, &Pubrel{MsgID: 0x1234}},
	{"SUBSCRIBE topic name", []byte{
		0x0d,       // Length 13
		0x12,       // MsgType SUBSCRIBE
		0x20,       // Flags: QoS 1, TopicIdType normal (topic name)
		0x00, 0x03, // MsgId 3
		'w', 'a', 'r', 'd', '/', '+', '/', 'h', // TopicName "ward/+/h"
	}, &Subscribe{QoS: QoS1, MsgID: 3, TopicName: []byte("ward/+/h")}},
	{"SUBSCRIBE predefined", []byte{
		0x07,       // Length 7
		0x12,       // MsgType SUBSCRIBE
		0x41,       // Flags: QoS 2, TopicIdType pre-defined
		0x00, 0x03, // MsgId 3
		0x00, 0x01, // TopicId 1
	}, &Subscribe{QoS: QoS2, TopicIDType: TopicIDPredefined, MsgID: 3, TopicID: 1}},
	{"SUBSCRIBE short DUP", []byte{
		0x07,       // Length 7
		0x12,       // MsgType SUBSCRIBE
		0x82,       // Flags: DUP, QoS 0, TopicIdType short
		0x00, 0x03, // MsgId 3
		'h', 'r', // short topic name "hr"
	}, &Subscribe{DUP: true, TopicIDType: TopicIDShort, MsgID: 3, TopicID: 0x6872}},
	{"SUBACK", []byte{
		0x08,       // Length 8
		0x13,       // MsgType SUBACK
		0x20,       // Flags: granted QoS 1
		0x00, 0x05, // TopicId 5
		0x00, 0x03, // MsgId 3
		0x00, // ReturnCode accepted
	}, &Suback{QoS: QoS1, TopicID: 5, MsgID: 3}},
	{"UNSUBSCRIBE topic name", []byte{
		0x0b,       // Length 11
		0x14,       // MsgType UNSUBSCRIBE
		0x00,       // Flags: TopicIdType normal
		0x00, 0x04, // MsgId 4
		'w', 'a', 'r', 'd', '/', '#', // TopicName "ward/#"
	}, &Unsubscribe{MsgID: 4, TopicName: []byte("ward/#")}},
	{"UNSUBSCRIBE short", []byte{
		0x07,       // Length 7
		0x14,       // MsgType UNSUBSCRIBE
		0x02,       // Flags: TopicIdType short
		0x00, 0x04, // MsgId 4
		'h', 'r', // short topic name "hr"
	}, &Unsubscribe{TopicIDType: TopicIDShort, MsgID: 4, TopicID: 0x6872}},
	{"UNSUBACK", []byte{
		0x04,       // Length 4
		0x15,       // MsgType UNSUBACK
		0x00, 0x04, // MsgId 4
	}, &Unsuback{MsgID: 4}},
	{"PINGREQ", []byte{
		0x02, // Length 2
		0x16, // MsgType PINGREQ, no ClientId
	}, &Pingreq{}},
	{"PINGREQ with client id", []byte{
		0x08,                         // Length 8
		0x16,                         // MsgType PINGREQ
		's', 'e', 'n', 's', 'o', 'r', // ClientId "sensor" (a sleeping client waking, §6.14)
	}, &Pingreq{ClientID: []byte("sensor")}},
	{"PINGRESP", []byte{
		0x02, // Length 2
		0x17, // MsgType PINGRESP
	}, &Pingresp{}},
	{"DISCONNECT", []byte{
		0x02, // Length 2
		0x18, // MsgType DISCONNECT, no Duration
	}, &Disconnect{}},
	{"DISCONNECT with duration", []byte{
		0x04,       // Length 4
		0x18,       // MsgType DISCONNECT
		0x0e, 0x10, // Duration: sleep 3600 s
	}, &Disconnect{HasDuration: true, Duration: 3600}},
	{"WILLTOPICUPD", []byte{
		0x0b,                                   // Length 11
		0x1a,                                   // MsgType WILLTOPICUPD
		0x40,                                   // Flags: QoS 2, no Retain
		'w', 'a', 'r', 'd', '/', '2', '/', 'x', // WillTopic "ward/2/x"
	}, &WillTopicUpd{QoS: QoS2, Topic: []byte("ward/2/x")}},
	{"WILLTOPICUPD empty (delete will)", []byte{
		0x02, // Length 2
		0x1a, // MsgType WILLTOPICUPD
	}, &WillTopicUpd{}},
	{"WILLTOPICRESP", []byte{
		0x03, // Length 3
		0x1b, // MsgType WILLTOPICRESP
		0x00, // ReturnCode accepted
	}, &WillTopicResp{}},
	{"WILLMSGUPD", []byte{
		0x05,          // Length 5
		0x1c,          // MsgType WILLMSGUPD
		'b', 'y', 'e', // WillMsg "bye"
	}, &WillMsgUpd{Msg: []byte("bye")}},
	{"WILLMSGRESP", []byte{
		0x03, // Length 3
		0x1d, // MsgType WILLMSGRESP
		0x03, // ReturnCode rejected: not supported
	}, &WillMsgResp{ReturnCode: RejectedNotSupported}},
	{"Encapsulated PINGREQ", []byte{
		0x05,       // Length 5: up to the end of the Wireless Node Id (§5.5)
		0xfe,       // MsgType Encapsulated
		0x01,       // Ctrl: radius 1
		0x00, 0x2a, // Wireless Node Id 0x002a
		0x02, 0x16, // the MQTT-SN message: PINGREQ
	}, &Encapsulated{Radius: 1, NodeID: []byte{0x00, 0x2a}, Msg: &Pingreq{}}},
	{"Encapsulated CONNECT", []byte{
		0x04,                                         // Length 4
		0xfe,                                         // MsgType Encapsulated
		0x00,                                         // Ctrl: radius 0
		0x07,                                         // Wireless Node Id 0x07
		0x08, 0x04, 0x04, 0x01, 0x00, 0x0a, 'c', '1', // CONNECT clean session, 10 s, "c1"
	}, &Encapsulated{NodeID: []byte{0x07}, Msg: &Connect{CleanSession: true, Duration: 10, ClientID: []byte("c1")}}},
	{"reserved 0x03 kept raw", []byte{
		0x05,             // Length 5
		0x03,             // MsgType reserved
		0x01, 0x02, 0x03, // body, kept intact
	}, &Unknown{MsgType: 0x03, Body: []byte{1, 2, 3}}},
	{"reserved 0xFF kept raw", []byte{
		0x02, // Length 2
		0xff, // MsgType reserved, empty body
	}, &Unknown{MsgType: 0xff}},
}

// longPublish is a PUBLISH of 300 data octets: 309 octets, 3-octet Length form.
func longPublish() golden {
	data := make([]byte, 300)
	for i := range data {
		data[i] = 'a' + byte(i%26) // printable, so Wireshark shows it whole
	}
	b := append([]byte{
		0x01, 0x01, 0x35, // Length: 0x01 marker, then 309
		0x0c,       // MsgType PUBLISH
		0x00,       // Flags: QoS 0, normal
		0x00, 0x05, // TopicId 5
		0x00, 0x00, // MsgId 0
	}, data...)
	return golden{"PUBLISH 3-octet length", b, &Publish{TopicID: 5, Data: data}}
}

func allGoldens() []golden { return append(append([]golden(nil), goldens...), longPublish()) }
