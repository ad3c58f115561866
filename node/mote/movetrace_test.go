package mote_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// datagramTrace records the MQTT-SN datagrams a mote's client sends and
// receives, on the virtual clock, so that a move's time after the route can
// be read frame by frame (TestMeshHandoverEndToEnd logs it with -v).
type datagramTrace struct {
	clk clock.Clock
	mu  sync.Mutex
	ev  []traceEvent
}

type traceEvent struct {
	at    time.Time
	tx    bool
	typ   mqttsn.MsgType
	msgID uint16 // PUBLISH, PUBACK
}

func (t *datagramTrace) add(tx bool, b []byte) {
	e := traceEvent{at: t.clk.Now(), tx: tx}
	m, err := mqttsn.DecodeDatagram(b)
	if err != nil {
		return
	}
	e.typ = m.Type()
	switch m := m.(type) {
	case *mqttsn.Publish:
		e.msgID = m.MsgID
	case *mqttsn.Puback:
		e.msgID = m.MsgID
	}
	t.mu.Lock()
	t.ev = append(t.ev, e)
	t.mu.Unlock()
}

// between returns the events from a to b (both included).
func (t *datagramTrace) between(a, b time.Time) []traceEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []traceEvent
	for _, e := range t.ev {
		if !e.at.Before(a) && !e.at.After(b) {
			out = append(out, e)
		}
	}
	return out
}

func (t *datagramTrace) wrap(c net.PacketConn) net.PacketConn {
	return &tracedConn{PacketConn: c, tr: t}
}

type tracedConn struct {
	net.PacketConn
	tr *datagramTrace
}

func (c *tracedConn) WriteTo(b []byte, a net.Addr) (int, error) {
	c.tr.add(true, b)
	return c.PacketConn.WriteTo(b, a)
}

func (c *tracedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.tr.add(false, b[:n])
	}
	return n, a, err
}

// resumeTrace is what a handover move's trace shows after the route.
type resumeTrace struct {
	// downlinks: datagrams the mote received after HO-RESUME and before it
	// sent the PUBLISH that the caregiver got as the move's first new
	// message (0: that PUBLISH went out right behind HO-RESUME).
	downlinks int
	// behind: the first PUBLISH left before HO-RESUMED came back.
	behind bool
	text   string
}

// readResume reads the datagrams of a handover move (ev: from its start,
// start, until the caregiver got its first new message, end).
func readResume(ev []traceEvent, start, end time.Time) resumeTrace {
	var r resumeTrace
	var b strings.Builder
	iResume, iLast := -1, -1
	for i, e := range ev {
		if iResume < 0 && e.tx && e.typ == mqttsn.TypeHOResume {
			iResume = i
		}
		if iResume >= 0 && e.tx && e.typ == mqttsn.TypePublish {
			// The first new message is the last PUBLISH sent before it
			// arrived (QoS 1: one outstanding, §6.6).
			iLast = i
		}
	}
	if iResume < 0 {
		r.text = "no HO-RESUME"
		return r
	}
	resumed := false
	for i, e := range ev[iResume:] {
		i += iResume
		switch {
		case e.tx && e.typ == mqttsn.TypePublish && !resumed && !r.behind:
			r.behind = true
		case !e.tx && e.typ == mqttsn.TypeHOResumed:
			resumed = true
		}
		if !e.tx && i < iLast {
			r.downlinks++
		}
		name := e.typ.String()
		if e.typ == mqttsn.TypePublish || e.typ == mqttsn.TypePuback {
			name += fmt.Sprintf("(%d)", e.msgID)
		}
		dir := "←"
		if e.tx {
			dir = "→"
		}
		fmt.Fprintf(&b, "%s%s %+.1f, ", dir, name, float64(e.at.Sub(start).Microseconds())/1000)
	}
	fmt.Fprintf(&b, "delivered %+.1f ms", float64(end.Sub(start).Microseconds())/1000)
	r.text = b.String()
	return r
}

// len is the number of datagrams traced so far.
func (t *datagramTrace) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ev)
}

// sentPublishSince reports whether the mote sent a PUBLISH after the
// first i datagrams traced.
func (t *datagramTrace) sentPublishSince(i int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.ev[min(i, len(t.ev)):] {
		if e.tx && e.typ == mqttsn.TypePublish {
			return true
		}
	}
	return false
}

// awaitingPuback reports whether, at time at, the mote's last PUBLISH
// before it had no PUBACK yet (QoS 1: the mote sends no other PUBLISH
// until it comes or Tretry expires, MQTT-SN v1.2 §6.6), and how long
// before at that PUBLISH was sent.
func (t *datagramTrace) awaitingPuback(at time.Time) (waiting bool, since time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.ev) - 1; i >= 0; i-- {
		e := t.ev[i]
		if e.at.After(at) || !e.tx || e.typ != mqttsn.TypePublish {
			continue
		}
		for _, r := range t.ev[i+1:] {
			if r.at.After(at) {
				break
			}
			if !r.tx && r.typ == mqttsn.TypePuback && r.msgID == e.msgID {
				return false, at.Sub(e.at)
			}
		}
		return true, at.Sub(e.at)
	}
	return false, -1
}
