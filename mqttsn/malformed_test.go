package mqttsn

import (
	"errors"
	"testing"
)

// Malformed inputs and the error each must give.
var malformed = []struct {
	name  string
	b     []byte
	typ   MsgType
	field string
	err   error
}{
	{"empty", []byte{}, 0, "Length", ErrTruncated},
	{"one octet", []byte{0x02}, 0, "Length", ErrTruncated},
	{"length 0", []byte{0x00, 0x16}, TypePingreq, "Length", ErrLength},
	{"3-octet length truncated", []byte{0x01, 0x00, 0x05}, 0, "Length", ErrTruncated},
	{"3-octet length below header", []byte{0x01, 0x00, 0x03, 0x16}, TypePingreq, "Length", ErrLength},
	{"length beyond datagram", []byte{0x05, 0x16, 'a'}, TypePingreq, "Length", ErrTruncated},
	{"ADVERTISE too long", []byte{0x06, 0x00, 1, 0, 1, 0}, TypeAdvertise, "Length", ErrLength},
	{"SEARCHGW no radius", []byte{0x02, 0x01}, TypeSearchGW, "Length", ErrLength},
	{"GWINFO no gwid", []byte{0x02, 0x02}, TypeGWInfo, "GwId", ErrTruncated},
	{"CONNECT no client id", []byte{0x06, 0x04, 0x04, 0x01, 0x00, 0x3c}, TypeConnect, "ClientId", ErrClientID},
	{"CONNECT client id 24 octets", append([]byte{30, 0x04, 0x04, 0x01, 0, 10}, "abcdefghijklmnopqrstuvwx"...), TypeConnect, "ClientId", ErrClientID},
	{"CONNECT protocol id 2", []byte{0x07, 0x04, 0x04, 0x02, 0x00, 0x3c, 'c'}, TypeConnect, "ProtocolId", ErrProtocolID},
	{"CONNECT DUP set", []byte{0x07, 0x04, 0x84, 0x01, 0x00, 0x3c, 'c'}, TypeConnect, "Flags", ErrReservedFlags},
	{"CONNECT QoS set", []byte{0x07, 0x04, 0x24, 0x01, 0x00, 0x3c, 'c'}, TypeConnect, "Flags", ErrReservedFlags},
	{"CONNECT topic id type set", []byte{0x07, 0x04, 0x05, 0x01, 0x00, 0x3c, 'c'}, TypeConnect, "Flags", ErrReservedFlags},
	{"CONNECT truncated duration", []byte{0x05, 0x04, 0x04, 0x01, 0x00}, TypeConnect, "Duration", ErrTruncated},
	{"CONNACK reserved return code", []byte{0x03, 0x05, 0x04}, TypeConnack, "ReturnCode", ErrReturnCode},
	{"CONNACK too long", []byte{0x04, 0x05, 0x00, 0x00}, TypeConnack, "Length", ErrLength},
	{"WILLTOPICREQ with body", []byte{0x03, 0x06, 0x00}, TypeWillTopicReq, "Length", ErrLength},
	{"WILLTOPIC flags but no topic", []byte{0x03, 0x07, 0x20}, TypeWillTopic, "WillTopic", ErrTopic},
	{"WILLTOPIC QoS -1", []byte{0x04, 0x07, 0x60, 'a'}, TypeWillTopic, "Flags", ErrQoS},
	{"WILLTOPIC will flag", []byte{0x04, 0x07, 0x08, 'a'}, TypeWillTopic, "Flags", ErrReservedFlags},
	{"WILLTOPIC bad UTF-8", []byte{0x04, 0x07, 0x00, 0xff}, TypeWillTopic, "WillTopic", ErrTopic},
	{"REGISTER empty topic", []byte{0x06, 0x0a, 0, 0, 0, 1}, TypeRegister, "TopicName", ErrTopic},
	{"REGISTER NUL in topic", []byte{0x08, 0x0a, 0, 0, 0, 1, 'a', 0}, TypeRegister, "TopicName", ErrTopic},
	{"REGISTER truncated", []byte{0x05, 0x0a, 0, 0, 0}, TypeRegister, "MsgId", ErrTruncated},
	{"REGACK short", []byte{0x06, 0x0b, 0, 5, 0, 1}, TypeRegack, "Length", ErrLength},
	{"REGACK reserved rc", []byte{0x07, 0x0b, 0, 5, 0, 1, 0x80}, TypeRegack, "ReturnCode", ErrReturnCode},
	{"PUBLISH truncated", []byte{0x06, 0x0c, 0x00, 0, 1, 0}, TypePublish, "MsgId", ErrTruncated},
	{"PUBLISH will flag", []byte{0x07, 0x0c, 0x08, 0, 1, 0, 0}, TypePublish, "Flags", ErrReservedFlags},
	{"PUBLISH clean flag", []byte{0x07, 0x0c, 0x04, 0, 1, 0, 0}, TypePublish, "Flags", ErrReservedFlags},
	{"PUBLISH topic id type 11", []byte{0x07, 0x0c, 0x03, 0, 1, 0, 0}, TypePublish, "Flags", ErrTopicIDType},
	{"PUBLISH QoS -1 normal topic id", []byte{0x07, 0x0c, 0x60, 0, 1, 0, 0}, TypePublish, "Flags", ErrTopicIDType},
	{"PUBACK reserved rc", []byte{0x07, 0x0d, 0, 1, 0, 1, 0x04}, TypePuback, "ReturnCode", ErrReturnCode},
	{"PUBREC long", []byte{0x05, 0x0f, 0, 1, 0}, TypePubrec, "Length", ErrLength},
	{"PUBREL short", []byte{0x03, 0x10, 0}, TypePubrel, "Length", ErrLength},
	{"PUBCOMP short", []byte{0x02, 0x0e}, TypePubcomp, "Length", ErrLength},
	{"SUBSCRIBE QoS -1", []byte{0x07, 0x12, 0x61, 0, 1, 0, 1}, TypeSubscribe, "Flags", ErrQoS},
	{"SUBSCRIBE retain", []byte{0x07, 0x12, 0x11, 0, 1, 0, 1}, TypeSubscribe, "Flags", ErrReservedFlags},
	{"SUBSCRIBE topic id type 11", []byte{0x07, 0x12, 0x03, 0, 1, 0, 1}, TypeSubscribe, "Flags", ErrTopicIDType},
	{"SUBSCRIBE predefined with name", []byte{0x08, 0x12, 0x01, 0, 1, 'a', 'b', 'c'}, TypeSubscribe, "TopicId", ErrTopic},
	{"SUBSCRIBE short with 1 octet", []byte{0x06, 0x12, 0x02, 0, 1, 'a'}, TypeSubscribe, "TopicId", ErrTopic},
	{"SUBSCRIBE normal empty name", []byte{0x05, 0x12, 0x00, 0, 1}, TypeSubscribe, "TopicName", ErrTopic},
	{"SUBSCRIBE truncated", []byte{0x04, 0x12, 0x00, 0}, TypeSubscribe, "MsgId", ErrTruncated},
	{"SUBACK QoS -1", []byte{0x08, 0x13, 0x60, 0, 1, 0, 1, 0}, TypeSuback, "Flags", ErrQoS},
	{"SUBACK topic id type set", []byte{0x08, 0x13, 0x21, 0, 1, 0, 1, 0}, TypeSuback, "Flags", ErrReservedFlags},
	{"SUBACK reserved rc", []byte{0x08, 0x13, 0x00, 0, 1, 0, 1, 9}, TypeSuback, "ReturnCode", ErrReturnCode},
	{"UNSUBSCRIBE QoS set", []byte{0x07, 0x14, 0x21, 0, 1, 0, 1}, TypeUnsubscribe, "Flags", ErrReservedFlags},
	{"UNSUBSCRIBE DUP set", []byte{0x07, 0x14, 0x81, 0, 1, 0, 1}, TypeUnsubscribe, "Flags", ErrReservedFlags},
	{"UNSUBSCRIBE short with 3 octets", []byte{0x08, 0x14, 0x02, 0, 1, 'a', 'b', 'c'}, TypeUnsubscribe, "TopicId", ErrTopic},
	{"UNSUBACK long", []byte{0x05, 0x15, 0, 1, 0}, TypeUnsuback, "Length", ErrLength},
	{"PINGREQ client id 24 octets", append([]byte{26, 0x16}, "abcdefghijklmnopqrstuvwx"...), TypePingreq, "ClientId", ErrClientID},
	{"PINGRESP with body", []byte{0x03, 0x17, 0}, TypePingresp, "Length", ErrLength},
	{"DISCONNECT 3 octets", []byte{0x03, 0x18, 0}, TypeDisconnect, "Length", ErrLength},
	{"DISCONNECT 5 octets", []byte{0x05, 0x18, 0, 0, 0}, TypeDisconnect, "Length", ErrLength},
	{"WILLTOPICUPD QoS -1", []byte{0x04, 0x1a, 0x60, 'a'}, TypeWillTopicUpd, "Flags", ErrQoS},
	{"WILLTOPICRESP reserved rc", []byte{0x03, 0x1b, 0xff}, TypeWillTopicResp, "ReturnCode", ErrReturnCode},
	{"WILLMSGRESP empty", []byte{0x02, 0x1d}, TypeWillMsgResp, "Length", ErrLength},
	{"Encapsulated 3-octet length", []byte{0x01, 0x00, 0x05, 0xfe, 0x00, 0x02, 0x16}, TypeEncapsulated, "Length", ErrLength},
	{"Encapsulated no node id", []byte{0x03, 0xfe, 0x00, 0x02, 0x16}, TypeEncapsulated, "WirelessNodeId", ErrTruncated},
	{"Encapsulated reserved ctrl bits", []byte{0x04, 0xfe, 0x04, 0x01, 0x02, 0x16}, TypeEncapsulated, "Ctrl", ErrReservedFlags},
	{"Encapsulated nothing inside", []byte{0x04, 0xfe, 0x00, 0x01}, TypeEncapsulated, "Message", ErrTruncated},
	{"Encapsulated nested", []byte{0x04, 0xfe, 0x00, 0x01, 0x04, 0xfe, 0x00, 0x01, 0x02, 0x16}, TypeEncapsulated, "Message", ErrNested},
	{"Encapsulated bad inner", []byte{0x04, 0xfe, 0x00, 0x01, 0x03, 0x05, 0x09}, TypeEncapsulated, "Message", ErrReturnCode},
}

func TestMalformed(t *testing.T) {
	for _, c := range malformed {
		t.Run(c.name, func(t *testing.T) {
			m, n, err := Decode(c.b)
			if err == nil {
				t.Fatalf("Decode(% x) = %#v, %d; want error", c.b, m, n)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Type != c.typ || pe.Field != c.field || !errors.Is(err, c.err) {
				t.Fatalf("got %v (type %v field %q), want type %v field %q err %v", err, pe.Type, pe.Field, c.typ, c.field, c.err)
			}
		})
	}
}

func TestDecodeDatagramTrailing(t *testing.T) {
	_, err := DecodeDatagram([]byte{0x02, 0x16, 0xAA})
	if !errors.Is(err, ErrTrailing) {
		t.Fatalf("got %v, want ErrTrailing", err)
	}
	if _, err := DecodeDatagram([]byte{0x02, 0x16}); err != nil {
		t.Fatal(err)
	}
}

// TestEncodeRefusesInvalid: AppendBinary applies the decoder's rules.
func TestEncodeRefusesInvalid(t *testing.T) {
	cases := []struct {
		name string
		m    Message
		err  error
	}{
		{"CONNECT empty client id", &Connect{}, ErrClientID},
		{"CONNECT 24-octet client id", &Connect{ClientID: make([]byte, 24)}, ErrClientID},
		{"PUBLISH QoS -1 normal", &Publish{QoS: QoSMinus1}, ErrTopicIDType},
		{"PUBLISH QoS 3", &Publish{QoS: 3}, ErrQoS},
		{"PUBLISH topic id type 3", &Publish{TopicIDType: 3}, ErrTopicIDType},
		{"PUBLISH too long", &Publish{Data: make([]byte, MaxLen)}, ErrTooLong},
		{"SUBSCRIBE QoS -1", &Subscribe{QoS: QoSMinus1, TopicName: []byte("a")}, ErrQoS},
		{"SUBSCRIBE predefined with name", &Subscribe{TopicIDType: TopicIDPredefined, TopicName: []byte("a")}, ErrTopic},
		{"SUBSCRIBE empty name", &Subscribe{}, ErrTopic},
		{"UNSUBSCRIBE empty name", &Unsubscribe{}, ErrTopic},
		{"REGISTER empty name", &Register{}, ErrTopic},
		{"CONNACK reserved rc", &Connack{ReturnCode: 7}, ErrReturnCode},
		{"SUBACK QoS -1", &Suback{QoS: QoSMinus1}, ErrQoS},
		{"WILLTOPIC empty with QoS", &WillTopic{QoS: QoS1}, ErrReservedFlags},
		{"WILLTOPIC QoS -1", &WillTopic{QoS: QoSMinus1, Topic: []byte("a")}, ErrQoS},
		{"PINGREQ 24-octet client id", &Pingreq{ClientID: make([]byte, 24)}, ErrClientID},
		{"DISCONNECT duration without flag", &Disconnect{Duration: 5}, ErrLength},
		{"Encapsulated nil", &Encapsulated{NodeID: []byte{1}}, ErrNested},
		{"Encapsulated nested", &Encapsulated{NodeID: []byte{1}, Msg: &Encapsulated{NodeID: []byte{1}, Msg: &Pingreq{}}}, ErrNested},
		{"Encapsulated radius 4", &Encapsulated{Radius: 4, NodeID: []byte{1}, Msg: &Pingreq{}}, ErrReservedFlags},
		{"Encapsulated no node id", &Encapsulated{Msg: &Pingreq{}}, ErrTruncated},
		{"Encapsulated bad inner", &Encapsulated{NodeID: []byte{1}, Msg: &Connect{}}, ErrClientID},
	}
	for _, c := range cases {
		prefix := []byte{1, 2, 3}
		b, err := c.m.AppendBinary(prefix)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: AppendBinary error %v, want %v", c.name, err, c.err)
		}
		if len(b) != len(prefix) {
			t.Errorf("%s: AppendBinary grew the buffer on error", c.name)
		}
	}
}
