package gateway

import (
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// session is everything the gateway keeps about one client id. All fields
// are guarded by Gateway.mu. Slices and pointers stay nil until used, so an
// idle connected session costs little.
type session struct {
	id    string
	state clientState
	clean bool
	peer  *peer // the address the client is bound to; nil when disconnected or lost

	keepAlive uint16 // seconds; 0 disables supervision (§6.11)
	sleepDur  uint16 // seconds, while asleep or awake (§6.14)
	lastSeen  time.Time
	since     time.Time // when state last changed
	epoch     uint32    // incremented when CleanSession resets the state; stale async results compare it

	will   *will
	topics topicRegistry

	nextMsgID uint16
	queue     []queuedMsg // waiting to be sent (asleep, window full, REGISTER outstanding)
	inflight  []outMsg    // QoS 1/2 sent to the client, not yet acknowledged
	reg       *outReg     // gateway REGISTER awaiting REGACK (§6.10)

	inBusy      []uint16 // client QoS 1/2 msg ids being published to the broker
	inQoS2      []uint16 // client QoS 2 msg ids published and PUBREC'd, awaiting PUBREL
	subscribing uint8    // SUBSCRIBE/UNSUBSCRIBE in progress: deliveries wait

	supervise clock.Timer // keep-alive, sleep or expiry supervision
	retry     clock.Timer // Tretry for inflight and reg

	ho *hoState // handover: token, admission record, transfer (handover.go); nil without peering
}

// will is a client's will (§6.3, §6.4).
type will struct {
	topic  string
	msg    []byte
	qos    byte
	retain bool
}

// Phases of a message the gateway sent with QoS 1 or 2.
const (
	awaitPuback  = iota // QoS 1 PUBLISH sent
	awaitPubrec         // QoS 2 PUBLISH sent
	awaitPubcomp        // PUBREL sent
)

// outMsg is a QoS 1/2 PUBLISH the gateway sent and the client has not
// completed yet (§6.10, §6.13).
type outMsg struct {
	m        broker.Message
	sentAt   time.Time
	msgID    uint16
	topicID  uint16
	tt       mqttsn.TopicIDType
	phase    uint8
	retries  uint8
	requeued bool // already re-registered once after "invalid topic id"
}

// queuedMsg is a message from the broker waiting to be sent to the client.
type queuedMsg struct {
	m        broker.Message
	requeued bool // sent once and refused with "invalid topic id"; not retried again
}

// outReg is a REGISTER the gateway sent before a PUBLISH (§6.10).
type outReg struct {
	name    string
	sentAt  time.Time
	topicID uint16
	msgID   uint16
	retries uint8
}

// nextID returns a message id not used by anything outstanding (§5.3.7).
func (s *session) nextID() uint16 {
	for {
		s.nextMsgID++
		if s.nextMsgID == 0 {
			s.nextMsgID = 1
		}
		if !s.idInUse(s.nextMsgID) {
			return s.nextMsgID
		}
	}
}

func (s *session) idInUse(id uint16) bool {
	if s.reg != nil && s.reg.msgID == id {
		return true
	}
	for i := range s.inflight {
		if s.inflight[i].msgID == id {
			return true
		}
	}
	return false
}

func (s *session) findInflight(id uint16) int {
	for i := range s.inflight {
		if s.inflight[i].msgID == id {
			return i
		}
	}
	return -1
}

func (s *session) removeInflight(i int) {
	copy(s.inflight[i:], s.inflight[i+1:])
	s.inflight[len(s.inflight)-1] = outMsg{}
	s.inflight = s.inflight[:len(s.inflight)-1]
	if len(s.inflight) == 0 {
		s.inflight = nil
	}
}

// resetState drops everything CleanSession drops (§6.3).
func (s *session) resetState() {
	s.epoch++
	s.will = nil
	s.topics.reset()
	s.queue = nil
	s.inflight = nil
	s.reg = nil
	s.inBusy = nil
	s.inQoS2 = nil
}

func containsID(ids []uint16, id uint16) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func removeID(ids []uint16, id uint16) []uint16 {
	for i, v := range ids {
		if v == id {
			ids[i] = ids[len(ids)-1]
			ids = ids[:len(ids)-1]
			if len(ids) == 0 {
				return nil
			}
			return ids
		}
	}
	return ids
}
