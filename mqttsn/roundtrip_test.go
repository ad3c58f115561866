package mqttsn

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// sampleMessages returns one valid message of every kind, for property tests.
func sampleMessages() []Message {
	long := bytes.Repeat([]byte{'x'}, 300)
	return []Message{
		&Advertise{GWID: 1, Duration: 900},
		&SearchGW{Radius: 2},
		&GWInfo{GWID: 7},
		&GWInfo{GWID: 7, GWAdd: []byte{0x0a, 0x00, 0x00, 0x01}},
		&Connect{Will: true, CleanSession: true, Duration: 60, ClientID: []byte("sensor-1")},
		&Connack{ReturnCode: RejectedCongestion},
		&WillTopicReq{},
		&WillTopic{QoS: QoS1, Retain: true, Topic: []byte("ward/1/lost")},
		&WillTopic{},
		&WillMsgReq{},
		&WillMsg{Msg: []byte("gone")},
		&WillMsg{},
		&Register{TopicID: 0, MsgID: 1, TopicName: []byte("ward/1/hr")},
		&Regack{TopicID: 5, MsgID: 1, ReturnCode: Accepted},
		&Publish{QoS: QoS1, TopicIDType: TopicIDNormal, TopicID: 5, MsgID: 9, Data: []byte("72")},
		&Publish{DUP: true, QoS: QoS2, Retain: true, TopicIDType: TopicIDPredefined, TopicID: 1, MsgID: 0xFFFF, Data: []byte{}},
		&Publish{QoS: QoSMinus1, TopicIDType: TopicIDShort, TopicID: 0x6872, Data: long},
		&Puback{TopicID: 5, MsgID: 9, ReturnCode: RejectedInvalidTopicID},
		&Pubrec{MsgID: 3}, &Pubrel{MsgID: 3}, &Pubcomp{MsgID: 3},
		&Subscribe{QoS: QoS2, TopicIDType: TopicIDNormal, MsgID: 4, TopicName: []byte("ward/+/hr")},
		&Subscribe{DUP: true, QoS: QoS0, TopicIDType: TopicIDShort, MsgID: 4, TopicID: 0x6872},
		&Subscribe{QoS: QoS1, TopicIDType: TopicIDPredefined, MsgID: 4, TopicID: 2},
		&Suback{QoS: QoS1, TopicID: 5, MsgID: 4, ReturnCode: Accepted},
		&Unsubscribe{TopicIDType: TopicIDNormal, MsgID: 6, TopicName: []byte("ward/#")},
		&Unsubscribe{TopicIDType: TopicIDPredefined, MsgID: 6, TopicID: 2},
		&Unsuback{MsgID: 6},
		&Pingreq{}, &Pingreq{ClientID: []byte("sensor-1")},
		&Pingresp{},
		&Disconnect{}, &Disconnect{HasDuration: true, Duration: 0}, &Disconnect{HasDuration: true, Duration: 3600},
		&WillTopicUpd{QoS: QoS2, Topic: []byte("ward/1/lost")}, &WillTopicUpd{},
		&WillTopicResp{ReturnCode: Accepted},
		&WillMsgUpd{Msg: []byte("bye")},
		&WillMsgResp{ReturnCode: RejectedNotSupported},
		&Encapsulated{Radius: 1, NodeID: []byte{0xfe, 0x80, 0x01}, Msg: &Pingreq{}},
		&Encapsulated{NodeID: []byte{0x11}, Msg: &Publish{QoS: QoS0, TopicID: 1, Data: long}},
		&Unknown{MsgType: 0x03, Body: []byte{1, 2, 3}},
		&Unknown{MsgType: 0xFF},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(m.Type().String(), func(t *testing.T) {
			prefix := []byte{0xAA}
			b, err := m.AppendBinary(prefix)
			if err != nil {
				t.Fatalf("AppendBinary: %v", err)
			}
			if !bytes.Equal(b[:1], prefix) {
				t.Fatalf("AppendBinary clobbered the prefix")
			}
			enc := b[1:]
			if len(enc) != m.Len() {
				t.Fatalf("Len() = %d, AppendBinary appended %d", m.Len(), len(enc))
			}
			got, n, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode(% x): %v", enc, err)
			}
			if n != len(enc) {
				t.Fatalf("Decode consumed %d of %d", n, len(enc))
			}
			if got.Type() != m.Type() {
				t.Fatalf("type %v, want %v", got.Type(), m.Type())
			}
			again, err := got.AppendBinary(nil)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if !bytes.Equal(again, enc) {
				t.Fatalf("re-encode differs:\n got % x\nwant % x", again, enc)
			}
			if !equalMsg(got, m) {
				t.Fatalf("decoded %#v, want %#v", got, m)
			}
		})
	}
}

// equalMsg compares messages treating nil and empty byte slices alike.
func equalMsg(a, b Message) bool {
	ea, err1 := Marshal(a)
	eb, err2 := Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb) && reflect.TypeOf(a) == reflect.TypeOf(b)
}

func TestLongLengthForm(t *testing.T) {
	m := &Publish{TopicID: 1, Data: make([]byte, 300)}
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0x01 || int(b[1])<<8|int(b[2]) != 309 || b[3] != byte(TypePublish) {
		t.Fatalf("header % x, want 01 01 35 0c", b[:4])
	}
	var p Publish
	if n, err := p.Decode(b); err != nil || n != 309 || len(p.Data) != 300 {
		t.Fatalf("Decode = %d, %v, %d data octets", n, err, len(p.Data))
	}
}

func TestParseErrorShape(t *testing.T) {
	_, _, err := Decode([]byte{0x03, 0x05, 0x09}) // CONNACK with reserved return code
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Type != TypeConnack || pe.Field != "ReturnCode" || !errors.Is(err, ErrReturnCode) {
		t.Fatalf("got %v", err)
	}
	if got, want := err.Error(), "mqttsn: CONNACK ReturnCode: reserved return code"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestReturnCodeIsError(t *testing.T) {
	var err error = RejectedCongestion
	if err.Error() != "rejected: congestion" || Accepted.Err() != nil || RejectedNotSupported.Err() == nil {
		t.Fatal("ReturnCode error behaviour wrong")
	}
}

func sameDynamicType(a, b Message) bool { return reflect.TypeOf(a) == reflect.TypeOf(b) }
