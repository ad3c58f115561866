package client

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

func TestConnectPublishDisconnect(t *testing.T) {
	h := setup(t, Config{CleanSession: true, KeepAlive: 30 * time.Second})
	m := h.connect(t)
	if string(m.ClientID) != "sensor-1" || !m.CleanSession || m.Will || m.Duration != 30 {
		t.Fatalf("CONNECT = %#v", m)
	}
	if h.c.State() != StateActive {
		t.Fatalf("state %v", h.c.State())
	}
	if err := h.c.Publish(ctx, Short("hr"), mqttsn.QoS0, true, []byte("72")); err != nil {
		t.Fatal(err)
	}
	p := h.gw.expect(mqttsn.TypePublish).(*mqttsn.Publish)
	if p.QoS != mqttsn.QoS0 || !p.Retain || p.TopicIDType != mqttsn.TopicIDShort || p.TopicID != 0x6872 ||
		p.MsgID != 0 || string(p.Data) != "72" {
		t.Fatalf("PUBLISH = %#v", p)
	}
	done := async(func() error { return h.c.Disconnect(ctx) })
	h.gw.expect(mqttsn.TypeDisconnect)
	h.gw.send(&mqttsn.Disconnect{})
	waitOK(t, done)
	if h.c.State() != StateDisconnected {
		t.Fatalf("state %v", h.c.State())
	}
	// CONNECT 14 + PUBLISH 9 + DISCONNECT 2 sent; CONNACK 3 + DISCONNECT 2 received.
	s := h.c.Stats()
	if s.DatagramsSent != 3 || s.BytesSent != 14+9+2 || s.DatagramsReceived != 2 || s.BytesReceived != 3+2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestConnectWillFlow(t *testing.T) {
	h := setup(t, Config{Will: &Will{Topic: "ward/1/lost", Message: []byte("gone"), QoS: mqttsn.QoS1, Retain: true}})
	done := async(func() error { return h.c.Connect(ctx) })
	if c := h.gw.expect(mqttsn.TypeConnect).(*mqttsn.Connect); !c.Will {
		t.Fatal("Will flag not set")
	}
	h.gw.send(&mqttsn.WillTopicReq{})
	wt := h.gw.expect(mqttsn.TypeWillTopic).(*mqttsn.WillTopic)
	if string(wt.Topic) != "ward/1/lost" || wt.QoS != mqttsn.QoS1 || !wt.Retain {
		t.Fatalf("WILLTOPIC = %#v", wt)
	}
	h.gw.send(&mqttsn.WillMsgReq{})
	if wm := h.gw.expect(mqttsn.TypeWillMsg).(*mqttsn.WillMsg); string(wm.Msg) != "gone" {
		t.Fatalf("WILLMSG = %q", wm.Msg)
	}
	h.gw.send(&mqttsn.Connack{})
	waitOK(t, done)
}

func TestConnectRejected(t *testing.T) {
	h := setup(t, Config{})
	done := async(func() error { return h.c.Connect(ctx) })
	h.gw.expect(mqttsn.TypeConnect)
	h.gw.send(&mqttsn.Connack{ReturnCode: mqttsn.RejectedCongestion})
	if err := wait(t, done); !errors.Is(err, mqttsn.RejectedCongestion) {
		t.Fatalf("got %v, want congestion", err)
	}
	if h.c.State() != StateDisconnected {
		t.Fatalf("state %v", h.c.State())
	}
}

func TestPublishQoS1RegistersOnce(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	for i := 0; i < 2; i++ {
		done := async(func() error { return h.c.Publish(ctx, Named("ward/1/hr"), mqttsn.QoS1, false, []byte{byte(i)}) })
		if i == 0 {
			r := h.gw.expect(mqttsn.TypeRegister).(*mqttsn.Register)
			if string(r.TopicName) != "ward/1/hr" || r.TopicID != 0 {
				t.Fatalf("REGISTER = %#v", r)
			}
			h.gw.send(&mqttsn.Regack{TopicID: 7, MsgID: r.MsgID})
		}
		p := h.gw.expect(mqttsn.TypePublish).(*mqttsn.Publish)
		if p.TopicID != 7 || p.QoS != mqttsn.QoS1 || p.MsgID == 0 || p.Data[0] != byte(i) {
			t.Fatalf("PUBLISH = %#v", p)
		}
		h.gw.send(&mqttsn.Puback{TopicID: 7, MsgID: p.MsgID + 1}) // wrong id: ignored
		h.gw.send(&mqttsn.Puback{TopicID: 7, MsgID: p.MsgID})
		waitOK(t, done)
	}
}

func TestPublishInvalidTopicIDReRegisters(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	for i, rc := range []mqttsn.ReturnCode{mqttsn.RejectedInvalidTopicID, mqttsn.Accepted} {
		done := async(func() error { return h.c.Publish(ctx, Named("a/b"), mqttsn.QoS1, false, nil) })
		r := h.gw.expect(mqttsn.TypeRegister).(*mqttsn.Register) // both times: the id was forgotten
		h.gw.send(&mqttsn.Regack{TopicID: uint16(10 + i), MsgID: r.MsgID})
		p := h.gw.expect(mqttsn.TypePublish).(*mqttsn.Publish)
		h.gw.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID, ReturnCode: rc})
		err := wait(t, done)
		if !errors.Is(err, rc.Err()) && !(rc == mqttsn.Accepted && err == nil) {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}

func TestPublishQoS2(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	done := async(func() error { return h.c.Publish(ctx, Predefined(3), mqttsn.QoS2, false, []byte("x")) })
	p := h.gw.expect(mqttsn.TypePublish).(*mqttsn.Publish)
	if p.TopicIDType != mqttsn.TopicIDPredefined || p.TopicID != 3 || p.QoS != mqttsn.QoS2 {
		t.Fatalf("PUBLISH = %#v", p)
	}
	h.gw.send(&mqttsn.Pubrec{MsgID: p.MsgID})
	if rel := h.gw.expect(mqttsn.TypePubrel).(*mqttsn.Pubrel); rel.MsgID != p.MsgID {
		t.Fatalf("PUBREL id %d", rel.MsgID)
	}
	h.gw.send(&mqttsn.Pubcomp{MsgID: p.MsgID})
	waitOK(t, done)
}

func TestPublishQoSMinus1WithoutConnection(t *testing.T) {
	h := setup(t, Config{PredefinedTopics: map[string]uint16{"alarm": 9}})
	if err := h.c.Publish(ctx, Topic{Type: mqttsn.TopicIDPredefined, Name: "alarm"}, mqttsn.QoSMinus1, false, []byte("!")); err != nil {
		t.Fatal(err)
	}
	p := h.gw.expect(mqttsn.TypePublish).(*mqttsn.Publish)
	if p.QoS != mqttsn.QoSMinus1 || p.TopicID != 9 || p.TopicIDType != mqttsn.TopicIDPredefined {
		t.Fatalf("PUBLISH = %#v", p)
	}
	if err := h.c.Publish(ctx, Named("a"), mqttsn.QoSMinus1, false, nil); !errors.Is(err, ErrTopic) {
		t.Fatalf("QoS -1 with a topic name: %v", err)
	}
	if err := h.c.Publish(ctx, Short("a"), mqttsn.QoS0, false, nil); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("QoS 0 before CONNECT: %v", err)
	}
}

func TestSubscribeAndReceive(t *testing.T) {
	h := setup(t, Config{PredefinedTopics: map[string]uint16{"ward/alarm": 1}})
	h.connect(t)

	// Exact topic name: SUBACK assigns the id used in PUBLISH.
	done := async(func() error {
		s, err := h.c.Subscribe(ctx, Named("ward/1/hr"), mqttsn.QoS1)
		if err == nil && (s.TopicID != 5 || s.QoS != mqttsn.QoS1) {
			t.Errorf("subscription %+v", s)
		}
		return err
	})
	s := h.gw.expect(mqttsn.TypeSubscribe).(*mqttsn.Subscribe)
	if s.TopicIDType != mqttsn.TopicIDNormal || string(s.TopicName) != "ward/1/hr" || s.QoS != mqttsn.QoS1 {
		t.Fatalf("SUBSCRIBE = %#v", s)
	}
	h.gw.send(&mqttsn.Suback{QoS: mqttsn.QoS1, TopicID: 5, MsgID: s.MsgID})
	waitOK(t, done)

	// Pre-defined and short.
	for _, tp := range []Topic{Predefined(1), Short("hr")} {
		done := async(func() error { _, err := h.c.Subscribe(ctx, tp, mqttsn.QoS2); return err })
		s := h.gw.expect(mqttsn.TypeSubscribe).(*mqttsn.Subscribe)
		if s.TopicIDType != tp.Type || len(s.TopicName) != 0 {
			t.Fatalf("SUBSCRIBE = %#v", s)
		}
		h.gw.send(&mqttsn.Suback{QoS: mqttsn.QoS2, MsgID: s.MsgID})
		waitOK(t, done)
	}

	// QoS 0 on the registered id.
	h.gw.send(&mqttsn.Publish{TopicID: 5, Data: []byte("70")})
	if m := recvPub(t, h.pubs); m.Topic != "ward/1/hr" || string(m.Data) != "70" {
		t.Fatalf("delivered %+v", m)
	}
	// QoS 1 on a pre-defined id: PUBACK, and a DUP retransmission is not delivered twice.
	h.gw.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1, MsgID: 77, Data: []byte("a")})
	if a := h.gw.expect(mqttsn.TypePuback).(*mqttsn.Puback); a.MsgID != 77 || a.TopicID != 1 || a.ReturnCode != mqttsn.Accepted {
		t.Fatalf("PUBACK = %#v", a)
	}
	h.gw.send(&mqttsn.Publish{DUP: true, QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1, MsgID: 77, Data: []byte("a")})
	h.gw.expect(mqttsn.TypePuback)
	// QoS 2 on a short topic: PUBREC, a repeated PUBLISH is not delivered, PUBREL → PUBCOMP.
	h.gw.send(&mqttsn.Publish{QoS: mqttsn.QoS2, TopicIDType: mqttsn.TopicIDShort, TopicID: 0x6872, MsgID: 78, Data: []byte("b")})
	h.gw.expect(mqttsn.TypePubrec)
	h.gw.send(&mqttsn.Publish{DUP: true, QoS: mqttsn.QoS2, TopicIDType: mqttsn.TopicIDShort, TopicID: 0x6872, MsgID: 78, Data: []byte("b")})
	h.gw.expect(mqttsn.TypePubrec)
	h.gw.send(&mqttsn.Pubrel{MsgID: 78})
	if c := h.gw.expect(mqttsn.TypePubcomp).(*mqttsn.Pubcomp); c.MsgID != 78 {
		t.Fatalf("PUBCOMP id %d", c.MsgID)
	}
	if m := recvPub(t, h.pubs); m.Topic != "ward/alarm" || m.QoS != mqttsn.QoS1 || string(m.Data) != "a" {
		t.Fatalf("delivered %+v", m)
	}
	if m := recvPub(t, h.pubs); m.Topic != "hr" || m.QoS != mqttsn.QoS2 || string(m.Data) != "b" {
		t.Fatalf("delivered %+v", m)
	}
	// Wildcard: the gateway REGISTERs the id first (§6.10), then publishes.
	h.gw.send(&mqttsn.Register{TopicID: 12, MsgID: 900, TopicName: []byte("ward/2/hr")})
	if a := h.gw.expect(mqttsn.TypeRegack).(*mqttsn.Regack); a.TopicID != 12 || a.MsgID != 900 || a.ReturnCode != mqttsn.Accepted {
		t.Fatalf("REGACK = %#v", a)
	}
	h.gw.send(&mqttsn.Publish{TopicID: 12, Data: []byte("c")})
	if m := recvPub(t, h.pubs); m.Topic != "ward/2/hr" {
		t.Fatalf("delivered %+v", m)
	}
	// An unknown normal id is refused with "invalid topic ID" and not delivered.
	h.gw.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 99, MsgID: 5})
	if a := h.gw.expect(mqttsn.TypePuback).(*mqttsn.Puback); a.ReturnCode != mqttsn.RejectedInvalidTopicID || a.TopicID != 99 {
		t.Fatalf("PUBACK = %#v", a)
	}
	if got := h.c.Stats().Duplicates; got != 2 {
		t.Fatalf("duplicates %d, want 2", got)
	}
	select {
	case m := <-h.pubs:
		t.Fatalf("unexpected delivery %+v", m)
	default:
	}

	// Unsubscribe.
	done = async(func() error { return h.c.Unsubscribe(ctx, Named("ward/+/hr")) })
	u := h.gw.expect(mqttsn.TypeUnsubscribe).(*mqttsn.Unsubscribe)
	if string(u.TopicName) != "ward/+/hr" {
		t.Fatalf("UNSUBSCRIBE = %#v", u)
	}
	h.gw.send(&mqttsn.Unsuback{MsgID: u.MsgID})
	waitOK(t, done)
}

func TestSubscribeRejected(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	done := async(func() error { _, err := h.c.Subscribe(ctx, Named("x"), mqttsn.QoS0); return err })
	s := h.gw.expect(mqttsn.TypeSubscribe).(*mqttsn.Subscribe)
	h.gw.send(&mqttsn.Suback{MsgID: s.MsgID, ReturnCode: mqttsn.RejectedNotSupported})
	if err := wait(t, done); !errors.Is(err, mqttsn.RejectedNotSupported) {
		t.Fatalf("got %v", err)
	}
}

func TestRetransmissionAndLoss(t *testing.T) {
	h := setup(t, Config{RetryInterval: 10 * time.Second, MaxRetries: 2})
	h.connect(t)
	done := async(func() error { return h.c.Publish(ctx, Short("hr"), mqttsn.QoS1, false, []byte("x")) })
	first := h.gw.expect(mqttsn.TypePublish).(*mqttsn.Publish)
	if first.DUP {
		t.Fatal("first PUBLISH has DUP set")
	}
	for i := 0; i < 2; i++ {
		h.clk.Advance(10 * time.Second)
		p := h.gw.expect(mqttsn.TypePublish).(*mqttsn.Publish)
		if !p.DUP || p.MsgID != first.MsgID {
			t.Fatalf("retransmission %d = %#v", i, p)
		}
	}
	h.clk.Advance(10 * time.Second)
	err := wait(t, done)
	var te *TimeoutError
	if !isTimeout(err) || !errors.As(err, &te) || te.Type != mqttsn.TypePublish || te.Retries != 2 {
		t.Fatalf("got %v, want timeout after 2 retransmissions", err)
	}
	if h.c.State() != StateLost {
		t.Fatalf("state %v, want lost", h.c.State())
	}
	select {
	case err := <-h.disc:
		if !isTimeout(err) {
			t.Fatalf("OnDisconnect(%v)", err)
		}
	case <-time.After(safety):
		t.Fatal("OnDisconnect not called")
	}
	if s := h.c.Stats(); s.Retransmissions != 2 || s.Timeouts != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRetransmittedAnswerAfterLoss(t *testing.T) {
	// A CONNECT lost once: the client retransmits and the second one is answered.
	h := setup(t, Config{})
	done := async(func() error { return h.c.Connect(ctx) })
	h.gw.expect(mqttsn.TypeConnect)
	h.clk.Advance(DefaultRetryInterval)
	h.gw.expect(mqttsn.TypeConnect)
	h.gw.send(&mqttsn.Connack{})
	waitOK(t, done)
}

func TestKeepAlive(t *testing.T) {
	h := setup(t, Config{KeepAlive: 20 * time.Second})
	h.connect(t)
	h.clk.Advance(20 * time.Second)
	h.gw.expect(mqttsn.TypePingreq)
	h.gw.send(&mqttsn.Pingresp{})
	// The gateway may ping us too (§6.11).
	h.gw.send(&mqttsn.Pingreq{})
	h.gw.expect(mqttsn.TypePingresp)
	// Sending resets the keep-alive timer: publish, then the next ping is
	// due KeepAlive after that publish.
	if err := h.c.Publish(ctx, Short("hr"), mqttsn.QoS0, false, nil); err != nil {
		t.Fatal(err)
	}
	h.gw.expect(mqttsn.TypePublish)
	h.clk.Advance(20 * time.Second)
	h.gw.expect(mqttsn.TypePingreq)
	h.gw.send(&mqttsn.Pingresp{})
	if h.c.State() != StateActive {
		t.Fatalf("state %v", h.c.State())
	}
}

func TestSleepAndWake(t *testing.T) {
	h := setup(t, Config{ClientID: "sleepy"})
	h.connect(t)
	done := async(func() error { return h.c.Sleep(ctx, time.Hour) })
	d := h.gw.expect(mqttsn.TypeDisconnect).(*mqttsn.Disconnect)
	if !d.HasDuration || d.Duration != 3600 {
		t.Fatalf("DISCONNECT = %#v", d)
	}
	h.gw.send(&mqttsn.Disconnect{})
	waitOK(t, done)
	if h.c.State() != StateAsleep {
		t.Fatalf("state %v", h.c.State())
	}
	done = async(func() error { return h.c.Wake(ctx) })
	p := h.gw.expect(mqttsn.TypePingreq).(*mqttsn.Pingreq)
	if string(p.ClientID) != "sleepy" {
		t.Fatalf("PINGREQ = %#v", p)
	}
	// Buffered messages, each restarting Tretry: advancing less than Tretry
	// after each must not trigger a PINGREQ retransmission.
	for i := 0; i < 3; i++ {
		h.gw.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDShort, TopicID: 0x6872, MsgID: uint16(i + 1), Data: []byte{byte(i)}})
		h.gw.expect(mqttsn.TypePuback)
	}
	h.gw.send(&mqttsn.Pingresp{})
	waitOK(t, done)
	// Wake returned only after the handler saw every buffered message.
	if len(h.pubs) != 3 {
		t.Fatalf("%d messages delivered before Wake returned, want 3", len(h.pubs))
	}
	if h.c.State() != StateAsleep {
		t.Fatalf("state %v after wake", h.c.State())
	}
	h.connect(t) // back to active
}

func TestWakeRestartsRetryOnActivity(t *testing.T) {
	h := setup(t, Config{ClientID: "sleepy", RetryInterval: 10 * time.Second, KeepAlive: -1})
	h.connect(t)
	done := async(func() error { return h.c.Sleep(ctx, time.Minute) })
	h.gw.expect(mqttsn.TypeDisconnect)
	h.gw.send(&mqttsn.Disconnect{})
	waitOK(t, done)
	t0 := h.clk.Now()
	done = async(func() error { return h.c.Wake(ctx) })
	h.gw.expect(mqttsn.TypePingreq)
	if next, _ := h.clk.Next(); !next.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("Tretry due at %v, want t0+10s", next.Sub(t0))
	}
	h.clk.Advance(6 * time.Second)
	h.gw.send(&mqttsn.Publish{TopicIDType: mqttsn.TopicIDShort, TopicID: 0x6872})
	recvPub(t, h.pubs) // delivered after the reader restarted Tretry
	if next, _ := h.clk.Next(); !next.Equal(t0.Add(16 * time.Second)) {
		t.Fatalf("after a buffered message Tretry is due at t0+%v, want t0+16s (§6.14)", next.Sub(t0))
	}
	h.clk.Advance(10 * time.Second)
	if p := h.gw.expect(mqttsn.TypePingreq).(*mqttsn.Pingreq); string(p.ClientID) != "sleepy" {
		t.Fatalf("retransmitted PINGREQ = %#v", p)
	}
	h.gw.send(&mqttsn.Pingresp{})
	waitOK(t, done)
}

func TestWillUpdates(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	done := async(func() error { return h.c.UpdateWillTopic(ctx, "ward/1/gone", mqttsn.QoS2, true) })
	u := h.gw.expect(mqttsn.TypeWillTopicUpd).(*mqttsn.WillTopicUpd)
	if string(u.Topic) != "ward/1/gone" || u.QoS != mqttsn.QoS2 || !u.Retain {
		t.Fatalf("WILLTOPICUPD = %#v", u)
	}
	h.gw.send(&mqttsn.WillTopicResp{})
	waitOK(t, done)
	done = async(func() error { return h.c.UpdateWillMessage(ctx, []byte("bye")) })
	if m := h.gw.expect(mqttsn.TypeWillMsgUpd).(*mqttsn.WillMsgUpd); string(m.Msg) != "bye" {
		t.Fatalf("WILLMSGUPD = %#v", m)
	}
	h.gw.send(&mqttsn.WillMsgResp{ReturnCode: mqttsn.RejectedNotSupported})
	if err := wait(t, done); !errors.Is(err, mqttsn.RejectedNotSupported) {
		t.Fatalf("got %v", err)
	}
	done = async(func() error { return h.c.UpdateWillTopic(ctx, "", 0, false) })
	if u := h.gw.expect(mqttsn.TypeWillTopicUpd).(*mqttsn.WillTopicUpd); len(u.Topic) != 0 || u.Len() != 2 {
		t.Fatalf("empty WILLTOPICUPD = %#v", u)
	}
	h.gw.send(&mqttsn.WillTopicResp{})
	waitOK(t, done)
}

func TestExtensionRequestAndUnsolicited(t *testing.T) {
	h := setup(t, Config{})
	const req, resp, push mqttsn.MsgType = 0xC1, 0xC2, 0xC3 // unregistered: *mqttsn.Unknown
	got := make(chan mqttsn.Message, 1)
	done := async(func() error {
		m, err := h.c.Request(ctx, &mqttsn.Unknown{MsgType: req, Body: []byte{1, 2}}, func(m mqttsn.Message) bool {
			return m.Type() == resp
		})
		got <- m
		return err
	})
	r := h.gw.expect(req).(*mqttsn.Unknown)
	if !bytes.Equal(r.Body, []byte{1, 2}) {
		t.Fatalf("request body % x", r.Body)
	}
	h.gw.send(&mqttsn.Unknown{MsgType: push, Body: []byte{9}}) // nobody waits: OnUnsolicited
	h.gw.send(&mqttsn.Unknown{MsgType: resp, Body: []byte{3}})
	waitOK(t, done)
	if m := (<-got).(*mqttsn.Unknown); m.MsgType != resp || !bytes.Equal(m.Body, []byte{3}) {
		t.Fatalf("reply %#v", m)
	}
	select {
	case m := <-h.ext:
		if m.Type() != push {
			t.Fatalf("unsolicited %v", m.Type())
		}
	case <-time.After(safety):
		t.Fatal("OnUnsolicited not called")
	}
	if err := h.c.Send(&mqttsn.Unknown{MsgType: req}); err != nil {
		t.Fatal(err)
	}
	h.gw.expect(req)
	// An extension message from another gateway reaches OnUnsolicited too.
	other := newFakeGW(t)
	other.peer = h.conn.LocalAddr()
	other.send(&mqttsn.Unknown{MsgType: push, Body: []byte{7}})
	select {
	case m := <-h.ext:
		if u := m.(*mqttsn.Unknown); u.Body[0] != 7 {
			t.Fatalf("unsolicited %#v", u)
		}
	case <-time.After(safety):
		t.Fatal("OnUnsolicited not called for another sender")
	}
}

func TestSearchGWAndAdvertise(t *testing.T) {
	h := setup(t, Config{})
	other := newFakeGW(t) // a second gateway, found by search
	h.c.SetGateway(nil)
	if err := h.c.Publish(ctx, Short("hr"), mqttsn.QoSMinus1, false, nil); !errors.Is(err, ErrNoGateway) {
		t.Fatalf("publish without gateway: %v", err)
	}
	gwc := make(chan Gateway, 1)
	done := async(func() error {
		g, err := h.c.SearchGW(ctx, other.addr(), 1)
		gwc <- g
		return err
	})
	if s := other.expect(mqttsn.TypeSearchGW).(*mqttsn.SearchGW); s.Radius != 1 {
		t.Fatalf("SEARCHGW = %#v", s)
	}
	// Backoff: the second search comes Tretry later, the third 2*Tretry after that.
	h.clk.Advance(DefaultRetryInterval)
	other.expect(mqttsn.TypeSearchGW)
	other.send(&mqttsn.GWInfo{GWID: 4})
	waitOK(t, done)
	g := <-gwc
	if g.ID != 4 || g.Addr.String() != other.addr().String() {
		t.Fatalf("gateway %+v", g)
	}
	h.c.SetGateway(g.Addr)
	// ADVERTISE from the first gateway, heard by the client.
	h.gw.peer = h.conn.LocalAddr()
	h.gw.send(&mqttsn.Advertise{GWID: 1, Duration: 900})
	select {
	case a := <-h.adv:
		if a.ID != 1 || a.Interval != 900*time.Second || a.Addr.String() != h.gw.addr().String() {
			t.Fatalf("advertised %+v", a)
		}
	case <-time.After(safety):
		t.Fatal("OnAdvertise not called")
	}
	gws := h.c.Gateways()
	if len(gws) != 2 || gws[0].ID != 1 || gws[1].ID != 4 {
		t.Fatalf("gateways %+v", gws)
	}
}

func TestUnsolicitedDisconnect(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	done := async(func() error { return h.c.Ping(ctx) })
	h.gw.expect(mqttsn.TypePingreq)
	h.gw.send(&mqttsn.Disconnect{})
	if err := wait(t, done); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("pending ping: %v", err)
	}
	select {
	case err := <-h.disc:
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("OnDisconnect(%v)", err)
		}
	case <-time.After(safety):
		t.Fatal("OnDisconnect not called")
	}
	if h.c.State() != StateLost {
		t.Fatalf("state %v", h.c.State())
	}
	if err := h.c.Publish(ctx, Short("hr"), mqttsn.QoS0, false, nil); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("publish after disconnect: %v", err)
	}
}

func TestBadInputIsCountedNotFatal(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	h.gw.sendRaw([]byte{0x05, 0x0c, 0x00}) // truncated PUBLISH
	// A stranger's PUBLISH is ignored.
	stranger, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	b, _ := mqttsn.Marshal(&mqttsn.Publish{TopicIDType: mqttsn.TopicIDShort, TopicID: 1})
	if _, err := stranger.WriteTo(b, h.conn.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	// Datagrams from one sender arrive in order on loopback; use a ping from
	// the gateway as a barrier after the garbage.
	h.gw.send(&mqttsn.Pingreq{})
	h.gw.expect(mqttsn.TypePingresp)
	if s := h.c.Stats(); s.Malformed != 1 {
		t.Fatalf("malformed %d, want 1", s.Malformed)
	}
	if h.c.State() != StateActive {
		t.Fatalf("state %v", h.c.State())
	}
}

func TestContextCancel(t *testing.T) {
	h := setup(t, Config{})
	cctx, cancel := context.WithCancel(ctx)
	done := async(func() error { return h.c.Connect(cctx) })
	h.gw.expect(mqttsn.TypeConnect)
	cancel()
	if err := wait(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestCloseUnblocksRequests(t *testing.T) {
	h := setup(t, Config{})
	done := async(func() error { return h.c.Connect(ctx) })
	h.gw.expect(mqttsn.TypeConnect)
	h.c.Close()
	if err := wait(t, done); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	h.c.Close() // idempotent
}

// A gateway may publish on a new topic id right after SUBACK; the client must
// know the id by the time it reads that PUBLISH.
func TestPublishRightAfterSuback(t *testing.T) {
	h := setup(t, Config{})
	h.connect(t)
	done := async(func() error { _, err := h.c.Subscribe(ctx, Named("ward/9/spo2"), mqttsn.QoS0); return err })
	s := h.gw.expect(mqttsn.TypeSubscribe).(*mqttsn.Subscribe)
	h.gw.send(&mqttsn.Suback{TopicID: 33, MsgID: s.MsgID})
	h.gw.send(&mqttsn.Publish{TopicID: 33, Data: []byte("98")})
	waitOK(t, done)
	if m := recvPub(t, h.pubs); m.Topic != "ward/9/spo2" || string(m.Data) != "98" {
		t.Fatalf("delivered %+v", m)
	}
}
