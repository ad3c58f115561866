package mqttsn

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

var (
	hdrB = PeerHeader{From: []byte("gw-b"), Time: 0x0000018f12345678, Nonce: seq(0x60, 8)}
	hdrA = PeerHeader{From: []byte("gw-a"), Time: 0x0000018f12345678, Nonce: seq(0x68, 8)}
)

const (
	hexHdrB = "04" + "67772d62" + "0000018f12345678" + "6061626364656667"               // From "gw-b", Time (Unix ms), Nonce
	hexHdrA = "04" + "67772d61" + "0000018f12345678" + "68696a6b6c6d6e6f"               // From "gw-a", Time, Nonce
	hexTok  = "20" + "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f" // TokenLen 32, Token
	hexMAC  = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
)

// minimalSession is a session with one known topic and nothing in flight.
func minimalSession() *HOSession {
	return &HOSession{KeepAlive: 60, NextMsgID: 5, NextTopicID: 2, AdmittedAt: 0x67ffff00,
		Topics: []HOTopic{{ID: 1, Known: true, Name: []byte("w/1/hr")}}}
}

const hexMinimalSession = "01" + "00" + // Version 1, Flags: none
	"003c" + "0000" + "0005" + "0002" + // KeepAlive 60, SleepDuration 0, NextMsgID 5, NextTopicID 2
	"67ffff00" + // AdmittedAt
	"0001" + "0001" + "01" + "0006" + "772f312f6872" + // 1 topic: id 1, known, "w/1/hr"
	"0000" + "0000" + "0000" + "0000" // no subscriptions, nothing out, queued or in QoS 2

func mustSession(s *HOSession) []byte {
	b, err := s.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// peerGoldens are the handover messages byte by byte.
func peerGoldens() []tsGolden {
	return []tsGolden{
		{"ho token", &HOToken{Expiry: 0x68000000, Home: []byte("gw-a"), Token: seq(0x10, 32)}, hexJoin(
			"2c", "b0", // Length 44, MsgType HO-TOKEN
			"68000000",       // Expiry (Unix s)
			"04", "67772d61", // Home "gw-a"
			hexTok)},
		{"ho resume", &HOResume{ClientID: []byte("z1-7"), Home: []byte("gw-a"), Token: seq(0x10, 32)}, hexJoin(
			"2e", "b1", // Length 46, MsgType HO-RESUME
			"00",             // Flags: no proof, awake
			"04", "7a312d37", // ClientId "z1-7"
			"04", "67772d61", // Home "gw-a"
			hexTok)},
		{"ho resume proof asleep", &HOResume{Asleep: true, ClientID: []byte("z1-7"), Home: []byte("gw-a"),
			Token: seq(0x10, 32), Proof: seq(0x70, 16)}, hexJoin(
			"3e", "b1", "03", "04", "7a312d37", "04", "67772d61", hexTok,
			"707172737475767778797a7b7c7d7e7f")}, // Proof
		{"ho resumed", &HOResumed{Expiry: 0x68000e10, Home: []byte("gw-b"), Token: seq(0x10, 32)}, hexJoin(
			"2d", "b2", // Length 45, MsgType HO-RESUMED
			"00",             // Status accepted
			"68000e10",       // Expiry of the new token
			"04", "67772d62", // Home "gw-b": the new home
			hexTok)},
		{"ho resumed refused", &HOResumed{Status: HOUnreachable, Home: []byte("gw-b"), Token: []byte{}}, hexJoin(
			"0d", "b2", "02", "00000000", "04", "67772d62", "00")}, // Status home unreachable, Home "gw-b", no token
		{"ho fetch", &HOFetch{Hdr: hdrB, XID: 7, ProofVerified: true, ClientID: []byte("z1-7"),
			Token: seq(0x10, 32), MAC: seq(0xA0, 16)}, hexJoin(
			"52", "b3", // Length 82, MsgType HO-FETCH
			hexHdrB,
			"00000007",       // XID
			"01",             // Flags: proof verified
			"04", "7a312d37", // ClientId
			hexTok, hexMAC)},
		{"ho transfer push", &HOTransfer{Hdr: hdrA, Push: true, Expiry: 0x68000000, ClientID: []byte("z1-7"),
			Token: seq(0x10, 32), Session: mustSession(minimalSession()), MAC: seq(0xA0, 16)}, hexJoin(
			"7b", "b4", // Length 123, MsgType HO-TRANSFER
			hexHdrA,
			"00000000",       // XID 0 (a push answers nothing)
			"01",             // Flags: push
			"68000000",       // Expiry of the token the node will present
			"04", "7a312d37", // ClientId
			hexTok,
			"0023", hexMinimalSession, // SessionLen 35, Session
			hexMAC)},
		{"ho confirm", &HOConfirm{Hdr: hdrB, XID: 7, ClientID: []byte("z1-7"), MAC: seq(0xA0, 16)}, hexJoin(
			"30", "b5", hexHdrB, "00000007", "04", "7a312d37", hexMAC)},
		{"ho refuse", &HORefuse{Hdr: hdrA, XID: 7, Reason: HOBadToken, ClientID: []byte("z1-7"), MAC: seq(0xA0, 16)}, hexJoin(
			"31", "b6", hexHdrA, "00000007", "04", "04", "7a312d37", hexMAC)}, // Reason 4: bad token
		{"ho forward", &HOForward{Hdr: hdrA, Seq: 1, ClientID: []byte("z1-7"), Msgs: []HOMessage{
			{QoS: 1, Topic: []byte("w/1/hr"), Payload: []byte("72")},
			{QoS: 2, Retain: true, Topic: []byte("w/1/cmd"), Payload: []byte{}}}, MAC: seq(0xA0, 16)}, hexJoin(
			"4b", "b7", // Length 75, MsgType HO-FORWARD
			hexHdrA,
			"00000001",       // Seq
			"04", "7a312d37", // ClientId
			"0002",                                       // Count
			"01", "0006", "772f312f6872", "0002", "3732", // QoS 1, "w/1/hr", "72"
			"06", "0007", "772f312f636d64", "0000", // QoS 2 retained, "w/1/cmd", empty payload
			hexMAC)},
		{"ho fwdack", &HOFwdAck{Hdr: hdrB, Seq: 1, ClientID: []byte("z1-7"), MAC: seq(0xA0, 16)}, hexJoin(
			"30", "b8", hexHdrB, "00000001", "04", "7a312d37", hexMAC)},
	}
}

func TestPeerGolden(t *testing.T) {
	for _, g := range peerGoldens() {
		t.Run(g.name, func(t *testing.T) {
			if g.msg.Len() != len(g.b) {
				t.Fatalf("Len() = %d, want %d", g.msg.Len(), len(g.b))
			}
			b, err := g.msg.AppendBinary(nil)
			if err != nil || !bytes.Equal(b, g.b) {
				t.Fatalf("encoded % x (%v)\nwant    % x", b, err, g.b)
			}
			m, n, err := Decode(g.b)
			if err != nil || n != len(g.b) || !equalFields(m, g.msg) {
				t.Fatalf("Decode = %#v, %d, %v", m, n, err)
			}
			if !g.msg.Type().IsExtension() || !strings.HasPrefix(g.msg.Type().String(), "HO-") {
				t.Fatalf("type %v not registered", g.msg.Type())
			}
			for i := 0; i < len(g.b); i++ {
				if _, err := New(g.msg.Type()).Decode(bytes.Clone(g.b[:i])); err == nil {
					t.Fatalf("prefix of %d octets decoded", i)
				}
			}
		})
	}
}

func TestPeerAuthData(t *testing.T) {
	for _, g := range peerGoldens() {
		if g.msg.Type() < TypeHOFetch {
			if _, _, err := PeerAuthData(g.b); !errors.Is(err, ErrType) {
				t.Errorf("%s: node message split: %v", g.name, err)
			}
			continue
		}
		ad, mac, err := PeerAuthData(g.b)
		// AuthData is the message minus the Length field and minus the MAC.
		if err != nil || !bytes.Equal(ad, g.b[1:len(g.b)-HOMACLen]) || !bytes.Equal(mac, g.b[len(g.b)-HOMACLen:]) {
			t.Errorf("%s: auth data % x mac % x (%v)", g.name, ad, mac, err)
		}
	}
	if _, _, err := PeerAuthData([]byte{0x0a, 0xb5, 1, 2, 3, 4, 5, 6, 7, 8}); !errors.Is(err, ErrTruncated) {
		t.Errorf("short peer message: %v", err)
	}
}

// fullSession uses every part of the record.
func fullSession() *HOSession {
	return &HOSession{Clean: false, Asleep: true, KeepAlive: 30, SleepDuration: 600, NextMsgID: 0xFFFF,
		NextTopicID: 9, AdmittedAt: 1,
		AdmitGateway: []byte("gw-a"), AdmitChallenge: seq(0x50, 16), AdmitProof: seq(0x70, 16),
		Topics: []HOTopic{{ID: 1, Known: true, Name: []byte("w/1/hr")}, {ID: 9, Rejected: true, Name: []byte("w/1/x")}},
		Subs:   []HOSub{{QoS: 1, Filter: []byte("w/+/cmd/#")}, {QoS: 2, Filter: []byte("ward/1/all")}},
		Will:   &HOWill{QoS: 1, Retain: true, Topic: []byte("w/1/lwt"), Msg: []byte("gone")},
		Reg:    &HOReg{TopicID: 3, MsgID: 17, Name: []byte("w/1/cmd/stop")},
		Out: []HOOut{
			{MsgID: 1, TopicID: 1, Phase: 0, Msg: HOMessage{QoS: 1, Topic: []byte("w/1/hr"), Payload: []byte{1}}},
			{MsgID: 2, TopicID: 0x7731, TopicIDType: TopicIDShort, Phase: 2, Msg: HOMessage{QoS: 2, Topic: []byte("w1"), Payload: []byte{}}},
		},
		Queue:  []HOMessage{{QoS: 0, Requeued: true, Topic: []byte("w/1/hr"), Payload: bytes.Repeat([]byte{9}, 300)}},
		InQoS2: []uint16{4, 5},
	}
}

func TestHOSessionRoundTrip(t *testing.T) {
	for name, s := range map[string]*HOSession{"minimal": minimalSession(), "full": fullSession(), "empty": {}} {
		b, err := s.AppendBinary([]byte{0xEE})
		if err != nil || b[0] != 0xEE || len(b)-1 != s.Len() {
			t.Fatalf("%s: encode: %v (len %d, Len %d)", name, err, len(b)-1, s.Len())
		}
		var got HOSession
		if err := got.Decode(b[1:]); err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		again, err := got.AppendBinary(nil)
		if err != nil || !bytes.Equal(again, b[1:]) {
			t.Fatalf("%s: re-encoded differently (%v)", name, err)
		}
		for i := 0; i < len(b)-1; i++ {
			var x HOSession
			if err := x.Decode(b[1 : 1+i]); err == nil {
				t.Fatalf("%s: prefix of %d octets decoded", name, i)
			}
		}
	}
	if got := mustSession(minimalSession()); !bytes.Equal(got, hexJoin(hexMinimalSession)) {
		t.Fatalf("minimal session % x", got)
	}
	// A transfer with a large session uses the 3-octet Length form.
	tr := &HOTransfer{Hdr: hdrA, ClientID: []byte("z1-7"), Token: seq(0x10, 32), Session: mustSession(fullSession()), MAC: seq(0, 16)}
	b, err := tr.AppendBinary(nil)
	if err != nil || b[0] != 0x01 || len(b) != tr.Len() {
		t.Fatalf("long transfer: % x (%v)", b[:4], err)
	}
	var d HOTransfer
	if n, err := d.Decode(b); err != nil || n != len(b) || !bytes.Equal(d.Session, tr.Session) {
		t.Fatalf("long transfer decode: %v", err)
	}
}

func TestPeerRejects(t *testing.T) {
	fix := func(b []byte) []byte { b[0] = byte(len(b)); return b }
	resume := peerGoldens()[1].b
	mutate := func(b []byte, i int, v byte) []byte { b = bytes.Clone(b); b[i] = v; return b }
	forward := peerGoldens()[9].b
	for name, tc := range map[string]struct {
		b     []byte
		field string
		err   error
	}{
		"resume reserved flag":  {mutate(resume, 2, 0x04), "Flags", ErrReservedFlags},
		"resume short token":    {fix(append(bytes.Clone(resume[:13]), append([]byte{15}, seq(0, 15)...)...)), "Token", ErrHOField},
		"resume empty clientid": {fix(append([]byte{0, 0xb1, 0, 0}, resume[8:]...)), "ClientId", ErrClientID},
		"resume trailing":       {fix(append(bytes.Clone(resume), 0)), "Proof", ErrLength},
		"resume home slash":     {mutate(resume, 9, '/'), "Home", ErrTSField},
		"resumed bad status":    {mutate(peerGoldens()[4].b, 2, 11), "Status", ErrHOField},
		"resumed refusal token": {mutate(peerGoldens()[3].b, 2, 1), "Token", ErrHOField},
		"refuse accepted":       {mutate(peerGoldens()[8].b, 27, 0), "Reason", ErrHOField},
		"forward qos 3":         {mutate(forward, 34, 0x03), "Message", ErrReservedFlags},
		"forward empty topic": {fix(append(append(bytes.Clone(forward[:32]), 0, 1, 1, 0, 0, 0, 0),
			forward[len(forward)-16:]...)), "Message", ErrTopic},
		"fetch trailing": {fix(append(bytes.Clone(peerGoldens()[5].b), 0)), "MAC", ErrLength},
	} {
		_, _, err := Decode(tc.b)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Field != tc.field || !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %s %v", name, err, tc.field, tc.err)
		}
	}
	// Encoders refuse what decoders refuse, leaving the buffer as it was.
	bad := []Message{
		&HOToken{Home: []byte("gw"), Token: seq(0, 15)},
		&HOToken{Home: []byte("g w"), Token: seq(0, 16)},
		&HOResume{ClientID: []byte("c"), Home: []byte("h"), Token: seq(0, 16), Proof: seq(0, 8)},
		&HOResume{ClientID: []byte(strings.Repeat("c", 24)), Home: []byte("h"), Token: seq(0, 16)},
		&HOResumed{Status: HOAccepted, Home: []byte("h")},
		&HOResumed{Status: HOBusy, Home: []byte("h"), Token: seq(0, 16)},
		&HOResumed{Status: HOBusy},
		&HOFetch{Hdr: PeerHeader{From: []byte("a"), Nonce: seq(0, 7)}, ClientID: []byte("c"), Token: seq(0, 16), MAC: seq(0, 16)},
		&HOConfirm{Hdr: hdrA, ClientID: []byte("c"), MAC: seq(0, 15)},
		&HORefuse{Hdr: hdrA, ClientID: []byte("c"), MAC: seq(0, 16)},
		&HOForward{Hdr: hdrA, ClientID: []byte("c"), MAC: seq(0, 16), Msgs: []HOMessage{{QoS: 3, Topic: []byte("t")}}},
		&HOTransfer{Hdr: hdrA, ClientID: []byte("c"), Token: seq(0, 16), MAC: seq(0, 16), Session: make([]byte, MaxLen)},
	}
	for _, m := range bad {
		if b, err := m.AppendBinary([]byte{1}); err == nil || !bytes.Equal(b, []byte{1}) {
			t.Errorf("%T encoded: % x", m, b)
		}
	}
	badSessions := []*HOSession{
		{Topics: []HOTopic{{ID: 0, Name: []byte("t")}}},
		{Topics: []HOTopic{{ID: 1}}},
		{Subs: []HOSub{{QoS: 3, Filter: []byte("#")}}},
		{AdmitGateway: []byte("gw"), AdmitChallenge: seq(0, 16)},
		{Out: []HOOut{{Msg: HOMessage{QoS: 0, Topic: []byte("t")}}}},
		{Out: []HOOut{{Phase: 3, Msg: HOMessage{QoS: 1, Topic: []byte("t")}}}},
		{Queue: []HOMessage{{Topic: []byte("t"), Payload: make([]byte, MaxLen)}}},
	}
	for i, s := range badSessions {
		if b, err := s.AppendBinary([]byte{1}); err == nil || !bytes.Equal(b, []byte{1}) {
			t.Errorf("bad session %d encoded", i)
		}
	}
	var s HOSession
	if err := s.Decode(hexJoin("02", hexMinimalSession[2:])); !errors.Is(err, ErrHOField) {
		t.Errorf("session version 2: %v", err)
	}
}

// FuzzPeer: every handover decoder, and the session record's, is total,
// and decode → encode is the identity.
func FuzzPeer(f *testing.F) {
	for _, g := range peerGoldens() {
		f.Add(g.b)
	}
	f.Add(mustSession(fullSession()))
	f.Fuzz(func(t *testing.T, b []byte) {
		for typ := TypeHOToken; typ <= TypeHOFwdAck; typ++ {
			m := New(typ)
			n, err := m.Decode(b)
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%v: untyped error %v", typ, err)
				}
				continue
			}
			enc, err := m.AppendBinary(nil)
			if err != nil {
				t.Fatalf("%v: decoded %#v but cannot encode: %v", typ, m, err)
			}
			if len(enc) != m.Len() {
				t.Fatalf("%v: Len %d, encoded %d", typ, m.Len(), len(enc))
			}
			if len(enc) == n && !bytes.Equal(enc, b[:n]) {
				t.Fatalf("%v: re-encoded % x, input % x", typ, enc, b[:n])
			}
		}
		_, _, _ = PeerAuthData(b)
		var s HOSession
		if err := s.Decode(b); err == nil {
			enc, err := s.AppendBinary(nil)
			if err != nil || !bytes.Equal(enc, b) || len(enc) != s.Len() {
				t.Fatalf("session: re-encoded % x (%v), input % x", enc, err, b)
			}
		}
	})
}

// TestPeerFuzzCorpusCommitted keeps testdata/fuzz/FuzzPeer in step with the
// goldens; set LSMQTT_UPDATE_CORPUS=1 to rewrite it.
func TestPeerFuzzCorpusCommitted(t *testing.T) {
	seeds := []testutil.Seed{{Name: corpusName("ho session full"), Data: mustSession(fullSession())}}
	for _, g := range peerGoldens() {
		seeds = append(seeds, testutil.Seed{Name: corpusName(g.name), Data: g.b})
	}
	testutil.CheckCorpus(t, "FuzzPeer", seeds)
}
