package mqttsn

// HOSession is the session record inside HO-TRANSFER (docs/protocol.md
// "Session record"): everything a gateway keeps about a client that must
// move with it so the client carries on where it was — MQTT-SN v1.2 §6.3's
// session state plus the gateway's in-flight work. It is not a message;
// errors name TypeHOTransfer and the field "Session".
//
//	Version(1)=1 Flags(1) KeepAlive(2) SleepDuration(2) NextMsgID(2)
//	NextTopicID(2) AdmittedAt(4)
//	[Admission: GwLen(1) Gw(1..23) Challenge(16) Proof(16)]      if Flags bit 4
//	TopicCount(2) {TopicID(2) TFlags(1) NameLen(2) Name}*
//	SubCount(2) {QoS(1) FilterLen(2) Filter}*
//	[Will: WFlags(1) TopicLen(2) Topic MsgLen(2) Msg]             if Flags bit 2
//	[Reg: TopicID(2) MsgID(2) NameLen(2) Name]                    if Flags bit 3
//	OutCount(2) {MsgID(2) TopicID(2) OFlags(1) HOMessage}*
//	QueueCount(2) HOMessage*
//	InQoS2Count(2) MsgID(2)*
//
// Flags: bit 0 CleanSession, bit 1 Asleep, bit 2 Will, bit 3 Reg, bit 4
// Admission. TFlags: bit 0 known (the client knows the id), bit 1 rejected
// (the client refused it, §6.10). WFlags: bits 0–1 QoS, bit 2 Retain.
// OFlags: bits 0–1 TopicIdType (§5.3.4), bits 2–3 phase (0 PUBLISH QoS 1
// sent, 1 PUBLISH QoS 2 sent, 2 PUBREL sent).
type HOSession struct {
	Clean         bool
	Asleep        bool
	KeepAlive     uint16 // seconds (§6.11)
	SleepDuration uint16 // seconds (§6.14)
	NextMsgID     uint16
	NextTopicID   uint16
	AdmittedAt    uint32 // Unix seconds of the last admission the TS verified (0: none)

	// Admission record: the TS challenge the node last proved its secret
	// for, the gateway that challenged it, and the proof. Nil when the
	// session was admitted without the TS (open gateways).
	AdmitGateway   []byte
	AdmitChallenge []byte
	AdmitProof     []byte

	Topics []HOTopic
	Subs   []HOSub
	Will   *HOWill
	Reg    *HOReg
	Out    []HOOut     // QoS 1/2 messages sent to the client, not yet completed
	Queue  []HOMessage // messages waiting to be sent to the client
	InQoS2 []uint16    // client QoS 2 msg ids published, awaiting PUBREL
}

// HOTopic is one registered normal topic id (§6.5, §6.10).
type HOTopic struct {
	ID       uint16
	Known    bool
	Rejected bool
	Name     []byte
}

// HOSub is one subscription (§6.9): a topic filter and its granted QoS.
type HOSub struct {
	QoS    byte
	Filter []byte
}

// HOWill is the will (§6.3). Topic may be empty (a will message whose
// topic is not set yet, §6.4).
type HOWill struct {
	QoS    byte
	Retain bool
	Topic  []byte
	Msg    []byte
}

// HOReg is a REGISTER the gateway sent and the client has not acknowledged.
type HOReg struct {
	TopicID uint16
	MsgID   uint16
	Name    []byte
}

// HOOut is a QoS 1/2 PUBLISH the gateway sent to the client and the client
// has not completed (§6.13): Msg with its msg id, topic id and phase.
type HOOut struct {
	MsgID       uint16
	TopicID     uint16
	TopicIDType TopicIDType
	Phase       uint8 // 0 PUBLISH QoS 1 sent, 1 PUBLISH QoS 2 sent, 2 PUBREL sent
	Msg         HOMessage
}

const hoSessionVersion = 1

const (
	hoSessClean     = 0x01
	hoSessAsleep    = 0x02
	hoSessWill      = 0x04
	hoSessReg       = 0x08
	hoSessAdmission = 0x10

	hoTopicKnown    = 0x01
	hoTopicRejected = 0x02
)

func sessErr(err error) error { return perr(TypeHOTransfer, "Session", err) }

// Len is the octets AppendBinary appends.
func (s *HOSession) Len() int {
	n := 1 + 1 + 2 + 2 + 2 + 2 + 4
	if s.AdmitGateway != nil {
		n += 1 + len(s.AdmitGateway) + HOChallenge + HOProofLen
	}
	n += 2
	for i := range s.Topics {
		n += 2 + 1 + 2 + len(s.Topics[i].Name)
	}
	n += 2
	for i := range s.Subs {
		n += 1 + 2 + len(s.Subs[i].Filter)
	}
	if w := s.Will; w != nil {
		n += 1 + 2 + len(w.Topic) + 2 + len(w.Msg)
	}
	if r := s.Reg; r != nil {
		n += 2 + 2 + 2 + len(r.Name)
	}
	n += 2
	for i := range s.Out {
		n += 2 + 2 + 1 + s.Out[i].Msg.len()
	}
	n += 2
	for i := range s.Queue {
		n += s.Queue[i].len()
	}
	return n + 2 + 2*len(s.InQoS2)
}

func (s *HOSession) check() error {
	if s.AdmitGateway != nil {
		if err := tsIdent(TypeHOTransfer, "Session", s.AdmitGateway, HONameMaxLen); err != nil {
			return err
		}
		if len(s.AdmitChallenge) != HOChallenge || len(s.AdmitProof) != HOProofLen {
			return sessErr(ErrHOField)
		}
	}
	if len(s.Topics) > 0xFFFF || len(s.Subs) > 0xFFFF || len(s.Out) > 0xFFFF ||
		len(s.Queue) > 0xFFFF || len(s.InQoS2) > 0xFFFF {
		return sessErr(ErrTooLong)
	}
	for i := range s.Topics {
		tp := &s.Topics[i]
		if tp.ID == 0 || tp.ID == 0xFFFF {
			return sessErr(ErrHOField) // §5.3.11: reserved topic ids
		}
		if err := checkTopicName(TypeHOTransfer, "Session", tp.Name); err != nil {
			return err
		}
	}
	for i := range s.Subs {
		if s.Subs[i].QoS > 2 {
			return sessErr(ErrQoS)
		}
		if err := checkTopicName(TypeHOTransfer, "Session", s.Subs[i].Filter); err != nil {
			return err
		}
	}
	if w := s.Will; w != nil && w.QoS > 2 {
		return sessErr(ErrQoS)
	}
	if r := s.Reg; r != nil {
		if err := checkTopicName(TypeHOTransfer, "Session", r.Name); err != nil {
			return err
		}
	}
	for i := range s.Out {
		o := &s.Out[i]
		if o.TopicIDType > TopicIDShort || o.Phase > 2 || o.Msg.QoS == 0 {
			return sessErr(ErrHOField)
		}
		if err := o.Msg.check(TypeHOTransfer); err != nil {
			return err
		}
	}
	for i := range s.Queue {
		if err := s.Queue[i].check(TypeHOTransfer); err != nil {
			return err
		}
	}
	if s.Len() > MaxLen {
		return sessErr(ErrTooLong)
	}
	return nil
}

// AppendBinary appends the record to b. It fails, leaving b unchanged, when
// a field breaks the rules Decode checks or the record exceeds MaxLen.
func (s *HOSession) AppendBinary(b []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return b, err
	}
	var f byte
	if s.Clean {
		f |= hoSessClean
	}
	if s.Asleep {
		f |= hoSessAsleep
	}
	if s.Will != nil {
		f |= hoSessWill
	}
	if s.Reg != nil {
		f |= hoSessReg
	}
	if s.AdmitGateway != nil {
		f |= hoSessAdmission
	}
	b = append(b, hoSessionVersion, f)
	b = append16(append16(append16(append16(b, s.KeepAlive), s.SleepDuration), s.NextMsgID), s.NextTopicID)
	b = append32(b, s.AdmittedAt)
	if s.AdmitGateway != nil {
		b = append(append(appendIdent(b, s.AdmitGateway), s.AdmitChallenge...), s.AdmitProof...)
	}
	b = append16(b, uint16(len(s.Topics)))
	for i := range s.Topics {
		tp := &s.Topics[i]
		var tf byte
		if tp.Known {
			tf |= hoTopicKnown
		}
		if tp.Rejected {
			tf |= hoTopicRejected
		}
		b = appendBytes16(append(append16(b, tp.ID), tf), tp.Name)
	}
	b = append16(b, uint16(len(s.Subs)))
	for i := range s.Subs {
		b = appendBytes16(append(b, s.Subs[i].QoS), s.Subs[i].Filter)
	}
	if w := s.Will; w != nil {
		wf := w.QoS
		if w.Retain {
			wf |= hoMsgRetain
		}
		b = appendBytes16(appendBytes16(append(b, wf), w.Topic), w.Msg)
	}
	if r := s.Reg; r != nil {
		b = appendBytes16(append16(append16(b, r.TopicID), r.MsgID), r.Name)
	}
	b = append16(b, uint16(len(s.Out)))
	for i := range s.Out {
		o := &s.Out[i]
		b = append(append16(append16(b, o.MsgID), o.TopicID), byte(o.TopicIDType)|o.Phase<<2)
		b = o.Msg.append(b)
	}
	b = append16(b, uint16(len(s.Queue)))
	for i := range s.Queue {
		b = s.Queue[i].append(b)
	}
	b = append16(b, uint16(len(s.InQoS2)))
	for _, id := range s.InQoS2 {
		b = append16(b, id)
	}
	return b, nil
}

// Decode reads a record that fills b exactly. It allocates the slices and
// the optional parts; every byte field aliases b.
func (s *HOSession) Decode(b []byte) error {
	r := hoReader{t: TypeHOTransfer, body: b}
	if v := r.u8("Session"); r.err == nil && v != hoSessionVersion {
		return sessErr(ErrHOField)
	}
	f := r.u8("Session")
	if r.err == nil && f&^(hoSessClean|hoSessAsleep|hoSessWill|hoSessReg|hoSessAdmission) != 0 {
		return sessErr(ErrReservedFlags)
	}
	v := HOSession{Clean: f&hoSessClean != 0, Asleep: f&hoSessAsleep != 0}
	v.KeepAlive = r.u16("Session")
	v.SleepDuration = r.u16("Session")
	v.NextMsgID = r.u16("Session")
	v.NextTopicID = r.u16("Session")
	v.AdmittedAt = r.u32("Session")
	if f&hoSessAdmission != 0 {
		v.AdmitGateway = r.ident("Session", HONameMaxLen)
		v.AdmitChallenge = r.fixed("Session", HOChallenge)
		v.AdmitProof = r.fixed("Session", HOProofLen)
	}
	n := int(r.u16("Session"))
	for i := 0; i < n && r.err == nil; i++ {
		tp := HOTopic{ID: r.u16("Session")}
		tf := r.u8("Session")
		tp.Name = r.bytes16("Session")
		if r.err == nil && (tf&^(hoTopicKnown|hoTopicRejected) != 0 || tp.ID == 0 || tp.ID == 0xFFFF) {
			r.fail("Session", ErrHOField)
		}
		tp.Known, tp.Rejected = tf&hoTopicKnown != 0, tf&hoTopicRejected != 0
		v.Topics = append(v.Topics, tp)
	}
	n = int(r.u16("Session"))
	for i := 0; i < n && r.err == nil; i++ {
		sub := HOSub{QoS: r.u8("Session"), Filter: r.bytes16("Session")}
		if r.err == nil && sub.QoS > 2 {
			r.fail("Session", ErrQoS)
		}
		v.Subs = append(v.Subs, sub)
	}
	if f&hoSessWill != 0 {
		wf := r.u8("Session")
		if r.err == nil && (wf&^(hoMsgQoS|hoMsgRetain) != 0 || wf&hoMsgQoS == 3) {
			r.fail("Session", ErrReservedFlags)
		}
		v.Will = &HOWill{QoS: wf & hoMsgQoS, Retain: wf&hoMsgRetain != 0, Topic: r.bytes16("Session"), Msg: r.bytes16("Session")}
	}
	if f&hoSessReg != 0 {
		v.Reg = &HOReg{TopicID: r.u16("Session"), MsgID: r.u16("Session"), Name: r.bytes16("Session")}
	}
	n = int(r.u16("Session"))
	for i := 0; i < n && r.err == nil; i++ {
		o := HOOut{MsgID: r.u16("Session"), TopicID: r.u16("Session")}
		of := r.u8("Session")
		if r.err == nil && of&^0x0F != 0 {
			r.fail("Session", ErrReservedFlags)
		}
		o.TopicIDType, o.Phase = TopicIDType(of&3), of>>2&3
		o.Msg.read(&r)
		v.Out = append(v.Out, o)
	}
	n = int(r.u16("Session"))
	for i := 0; i < n && r.err == nil; i++ {
		var m HOMessage
		m.read(&r)
		v.Queue = append(v.Queue, m)
	}
	n = int(r.u16("Session"))
	for i := 0; i < n && r.err == nil; i++ {
		v.InQoS2 = append(v.InQoS2, r.u16("Session"))
	}
	if r.err != nil {
		return r.err
	}
	if len(r.body) != 0 {
		return sessErr(ErrLength)
	}
	// The encoder's rules, so that anything decoded encodes again.
	if err := v.check(); err != nil {
		return err
	}
	*s = v
	return nil
}
