package loadgen

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Connection and registration states of a client.
const (
	stIdle int32 = iota
	stPending
	stAccepted
	stRejected
)

// QoS 2 in-flight states (MQTT-SN v1.2 §6.10: PUBLISH → PUBREC → PUBREL → PUBCOMP).
const (
	slotPublished uint8 = iota // waiting for PUBACK (QoS 1) or PUBREC (QoS 2)
	slotReleased               // PUBREL sent, waiting for PUBCOMP
)

// slot is one in-flight QoS 1/2 message. Slot i only ever uses message ids
// 1+i+window*g, so an acknowledgement finds its slot without searching.
type slot struct {
	inUse   bool
	state   uint8
	msgID   uint16
	gen     uint16
	tries   int
	firstAt int64 // Unix ns of the first transmission
	lastAt  int64 // Unix ns of the latest transmission
	buf     []byte
}

// client is one simulated MQTT-SN client: a connected UDP socket, a reader
// goroutine that handles whatever the gateway sends, and (during the publish
// phase) a sender goroutine.
type client struct {
	r    *runner
	idx  int
	pidx int // index of this client's pacer in the publish phase
	id   []byte
	conn *net.UDPConn
	bc   batchConn

	conState  atomic.Int32
	connectAt atomic.Int64 // first CONNECT sent, Unix ns
	connCong  atomic.Bool  // the last CONNACK said "rejected: congestion"
	regState  atomic.Int32
	topicID   uint16 // written before regState becomes stAccepted
	topicName []byte

	// In-flight QoS 1/2 messages; mu guards slots, free, the send state
	// and, for QoS 1/2, the send counters. Paced, the credit channel holds
	// one token per free slot; ack-clocked, the reader sends the next
	// message itself and pokes wake when the sender should look.
	mu         sync.Mutex
	slots      []slot
	free       []int
	credit     chan struct{}
	wake       chan struct{}
	ackClocked bool
	seq        int64 // next sequence number
	limit      int64 // messages to send, -1: until the run stops
	payload    []byte
	pub        mqttsn.Publish
	relBuf     [4]byte // PUBREL the reader sends

	// Send counters: under mu for QoS 1/2, owned by the driver for QoS -1/0.
	offered, sent, sendErrs        int64
	lastSend                       int64
	retrans, acked, rejected, lost atomic.Int64
	congested, dupAcks, unexpected atomic.Int64
	bad, gwDisconnects, rcvErrs    atomic.Int64
	lastAck                        atomic.Int64
}

func newClient(r *runner, idx int, conn *net.UDPConn) *client {
	c := &client{r: r, idx: idx, conn: conn, bc: newBatchConn(conn)}
	c.id = []byte(r.cfg.ClientIDPrefix + itoa(idx))
	w := r.cfg.Window
	c.slots = make([]slot, w)
	c.free = make([]int, 0, w)
	for i := w - 1; i >= 0; i-- {
		c.free = append(c.free, i)
		c.slots[i].buf = make([]byte, 0, r.dgram)
	}
	c.wake = make(chan struct{}, 1)
	c.credit = make(chan struct{}, w)
	for range w {
		c.credit <- struct{}{}
	}
	return c
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

// readLoop handles datagrams from the gateway until the socket is closed.
func (c *client) readLoop() {
	ms := make([]ipv4.Message, 4)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, 1024)}
	}
	for {
		n, err := c.bc.ReadBatch(ms, 0)
		now := nowNano()
		for i := range n {
			c.handle(ms[i].Buffers[0][:ms[i].N], now)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.rcvErrs.Add(1) // e.g. ECONNREFUSED: nothing listens on the gateway port
		}
	}
}

// handle dispatches one datagram from the gateway. Typed decoders alias b
// and allocate nothing.
func (c *client) handle(b []byte, now int64) {
	h, err := mqttsn.ReadHeader(b)
	if err != nil {
		c.bad.Add(1)
		return
	}
	switch h.Type {
	case mqttsn.TypeConnack:
		var m mqttsn.Connack
		if _, err := m.Decode(b); err != nil {
			c.bad.Add(1)
			return
		}
		c.onConnack(m.ReturnCode, now)
	case mqttsn.TypeRegack:
		var m mqttsn.Regack
		if _, err := m.Decode(b); err != nil {
			c.bad.Add(1)
			return
		}
		c.onRegack(&m)
	case mqttsn.TypePuback:
		var m mqttsn.Puback
		if _, err := m.Decode(b); err != nil {
			c.bad.Add(1)
			return
		}
		c.complete(m.MsgID, m.ReturnCode, now, false)
	case mqttsn.TypePubrec:
		var m mqttsn.Pubrec
		if _, err := m.Decode(b); err != nil {
			c.bad.Add(1)
			return
		}
		c.onPubrec(m.MsgID, now)
	case mqttsn.TypePubcomp:
		var m mqttsn.Pubcomp
		if _, err := m.Decode(b); err != nil {
			c.bad.Add(1)
			return
		}
		c.complete(m.MsgID, mqttsn.Accepted, now, true)
	case mqttsn.TypeDisconnect:
		c.gwDisconnects.Add(1)
	case mqttsn.TypePingresp:
	default:
		c.unexpected.Add(1)
	}
}

// onConnack answers this client's CONNECT (MQTT-SN v1.2 §6.2). Only the
// first final CONNACK counts. "Rejected: congestion" is not final: the
// client stays pending and is sent its CONNECT again with the next resend
// round, as a real client retries later (§5.3.10 return codes; the gateway
// answers congestion while its half-open connects or broker attaches are
// saturated by a burst).
func (c *client) onConnack(rc mqttsn.ReturnCode, now int64) {
	if rc == mqttsn.RejectedCongestion && c.conState.Load() == stPending {
		c.connCong.Store(true)
		c.r.connCongested.Add(1)
		return
	}
	st := stAccepted
	if rc != mqttsn.Accepted {
		st = stRejected
	}
	if !c.conState.CompareAndSwap(stPending, st) {
		c.dupAcks.Add(1)
		return
	}
	c.r.connected(c, now)
}

// onRegack answers the REGISTER (MQTT-SN v1.2 §6.5).
func (c *client) onRegack(m *mqttsn.Regack) {
	if m.MsgID != regMsgID || c.regState.Load() != stPending {
		c.dupAcks.Add(1)
		return
	}
	st := stRejected
	if m.ReturnCode == mqttsn.Accepted {
		c.topicID = m.TopicID
		st = stAccepted
	}
	if c.regState.CompareAndSwap(stPending, st) {
		c.r.registered()
	}
}

// regMsgID is the message id of every client's REGISTER; publishing starts
// only after registration, so it cannot collide with a PUBLISH in flight.
const regMsgID = 1

// complete ends an in-flight message on PUBACK (QoS 1, or a rejection of any
// QoS) or PUBCOMP (QoS 2, §6.10).
func (c *client) complete(msgID uint16, rc mqttsn.ReturnCode, now int64, pubcomp bool) {
	c.mu.Lock()
	i := c.slotOf(msgID)
	if i < 0 || (pubcomp && c.slots[i].state != slotReleased) {
		c.mu.Unlock()
		c.dupAcks.Add(1)
		return
	}
	s := &c.slots[i]
	// Count before the slot is freed: whoever sees it free may end the run.
	if rc == mqttsn.Accepted {
		c.acked.Add(1)
		c.r.ackLat.Record(time.Duration(now - s.firstAt))
		c.lastAck.Store(now)
	} else {
		c.rejected.Add(1)
		if rc == mqttsn.RejectedCongestion {
			c.congested.Add(1)
		}
	}
	s.inUse = false
	c.free = append(c.free, i)
	clocked := c.ackClocked
	if clocked {
		c.fillLocked()
	}
	idle := clocked && !c.sending()
	c.mu.Unlock()
	if idle {
		c.poke()
	}
	if !clocked {
		c.giveCredit()
	}
}

// poke wakes the ack-clocked sender goroutine.
func (c *client) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// onPubrec answers PUBREC with PUBREL (§6.10), again for a repeated PUBREC.
func (c *client) onPubrec(msgID uint16, now int64) {
	c.mu.Lock()
	i := c.slotOf(msgID)
	if i < 0 {
		c.mu.Unlock()
		c.dupAcks.Add(1)
		return
	}
	s := &c.slots[i]
	if s.state == slotReleased {
		c.dupAcks.Add(1)
	}
	s.state, s.lastAt, s.tries = slotReleased, now, 0
	rel := mqttsn.Pubrel{MsgID: msgID}
	b, _ := rel.AppendBinary(c.relBuf[:0])
	_, err := c.conn.Write(b)
	c.mu.Unlock()
	if err != nil {
		c.rcvErrs.Add(1)
	}
}

// slotOf finds the in-flight slot of msgID, -1 if none. Call with mu held.
func (c *client) slotOf(msgID uint16) int {
	if msgID == 0 {
		return -1
	}
	i := int(msgID-1) % len(c.slots)
	if s := &c.slots[i]; !s.inUse || s.msgID != msgID {
		return -1
	}
	return i
}

func (c *client) giveCredit() {
	select {
	case c.credit <- struct{}{}:
	default:
	}
}

// inflight is the number of QoS 1/2 messages awaiting their answer.
func (c *client) inflight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.slots) - len(c.free)
}

// retransmit resends every message whose answer is overdue, with DUP set
// (MQTT-SN v1.2 §6.13), or PUBREL for a QoS 2 message already released;
// after MaxRetries it gives the message up as lost.
func (c *client) retransmit(now int64) {
	cfg := c.r.cfg
	timeout := int64(cfg.RetryTimeout)
	var rel [4]byte
	c.mu.Lock()
	for i := range c.slots {
		s := &c.slots[i]
		if !s.inUse || now-s.lastAt < timeout {
			continue
		}
		if s.tries >= cfg.MaxRetries {
			s.inUse = false
			c.free = append(c.free, i)
			c.lost.Add(1)
			if c.ackClocked {
				c.fillLocked()
			} else {
				c.giveCredit()
			}
			continue
		}
		s.tries++
		s.lastAt = now
		b := s.buf
		if s.state == slotReleased {
			m := mqttsn.Pubrel{MsgID: s.msgID}
			b, _ = m.AppendBinary(rel[:0])
		} else {
			// The Flags octet follows the header; DUP is its top bit.
			b[len(b)-cfg.PayloadSize-5] |= byte(mqttsn.FlagDUP)
		}
		if _, err := c.conn.Write(b); err != nil {
			c.rcvErrs.Add(1)
		}
		c.retrans.Add(1)
	}
	c.mu.Unlock()
}

// abandon gives up every message still in flight (the drain ended).
func (c *client) abandon() {
	c.mu.Lock()
	for i := range c.slots {
		if c.slots[i].inUse {
			c.slots[i].inUse = false
			c.free = append(c.free, i)
			c.lost.Add(1)
		}
	}
	c.mu.Unlock()
}
