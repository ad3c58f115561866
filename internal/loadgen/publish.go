package loadgen

import (
	"time"

	"golang.org/x/net/ipv4"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// publish is a QoS 1/2 client's sender for the publish phase. It runs on
// its own goroutine and returns when its schedule is exhausted or the run
// stops, and once everything in flight is answered or the drain ends.
func (c *client) publish(p *pacer) {
	c.mu.Lock()
	c.limit = p.offered()
	c.payload = make([]byte, c.r.cfg.PayloadSize)
	c.pub = c.newPublish(c.payload)
	c.mu.Unlock()
	if p.rate > 0 {
		c.publishPaced(p)
	} else {
		c.publishAckClocked()
	}
	c.mu.Lock()
	if c.limit >= 0 {
		c.offered = c.limit
	} else {
		c.offered = c.seq
	}
	c.mu.Unlock()
}

func (c *client) newPublish(payload []byte) mqttsn.Publish {
	cfg := c.r.cfg
	return mqttsn.Publish{QoS: mqttsn.QoS(cfg.QoS), TopicIDType: cfg.TopicType, TopicID: c.topicID, Data: payload}
}

// publishUnacked sends QoS -1/0 PUBLISHes for the clients cs from one
// goroutine: whatever is due for a client goes out in one sendmmsg of up to
// Batch datagrams (see driver).
func (r *runner) publishUnacked(cs []*client, all []pacer) {
	batch := r.cfg.Batch
	payload := make([]byte, r.cfg.PayloadSize)
	ms := make([]ipv4.Message, batch)
	bufs := make([][]byte, batch)
	for i := range ms {
		bufs[i] = make([]byte, 0, r.dgram)
		ms[i].Buffers = [][]byte{nil}
	}
	ps := make([]pacer, len(cs))
	for j, c := range cs {
		ps[j] = all[c.pidx]
	}
	d := &driver{pacers: ps, batch: int64(batch), stopped: &r.stopped, stop: r.stop, send: func(j int, seq, k int64) {
		c := cs[j]
		pub := c.newPublish(payload)
		ns := nowNano()
		for m := range k {
			stamp(payload, ns, uint32(c.idx), uint32(seq+m))
			bufs[m], _ = pub.AppendBinary(bufs[m][:0])
			ms[m].Buffers[0] = bufs[m]
		}
		n, err := c.bc.WriteBatch(ms[:k], 0)
		n = max(n, 0)
		c.sent += int64(n)
		if err != nil {
			c.sendErrs += k - int64(n)
		}
		c.lastSend = ns
	}}
	d.run()
	for j, c := range cs {
		c.offered = d.done[j]
		if lim := ps[j].offered(); lim >= 0 {
			c.offered = lim
		}
	}
}

// sending reports whether the client may send another message. Call with
// mu held.
func (c *client) sending() bool {
	return !c.r.stopped.Load() && (c.limit < 0 || c.seq < c.limit)
}

// sendLocked sends the next message in a free slot and reports whether the
// write succeeded (a failed one frees the slot again). Call with mu held and
// a slot free. The write happens under mu: it is a non-blocking UDP send, and
// it keeps the reader from seeing the answer before the slot is filled in.
func (c *client) sendLocked() bool {
	w := len(c.slots)
	i := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	s := &c.slots[i]
	s.msgID = uint16(1 + i + w*int(s.gen))
	s.gen = (s.gen + 1) % uint16(0xFFFF/w)
	ns := nowNano()
	stamp(c.payload, ns, uint32(c.idx), uint32(c.seq))
	c.pub.MsgID = s.msgID
	s.buf, _ = c.pub.AppendBinary(s.buf[:0])
	s.inUse, s.state, s.tries, s.firstAt, s.lastAt = true, slotPublished, 0, ns, ns
	c.seq++
	if _, err := c.conn.Write(s.buf); err != nil {
		c.sendErrs++
		s.inUse = false
		c.free = append(c.free, i)
		return false
	}
	c.sent++
	c.lastSend = ns
	return true
}

// fillLocked sends while slots are free (ack-clocked mode). Call with mu held.
func (c *client) fillLocked() {
	for len(c.free) > 0 && c.sending() {
		c.sendLocked()
	}
}

// publishAckClocked sends unpaced: the window is filled at once, and then
// the reader sends the next message as soon as an answer frees a slot, so a
// message costs one goroutine wake-up, not two. This goroutine only
// retransmits and notices the end.
func (c *client) publishAckClocked() {
	r := c.r
	cfg := r.cfg
	c.mu.Lock()
	c.ackClocked = true
	c.fillLocked()
	c.mu.Unlock()
	retryEvery := max(cfg.RetryTimeout/4, time.Millisecond)
	retry := time.NewTimer(retryEvery)
	defer retry.Stop()
	var drain *time.Timer
	var drainC <-chan time.Time
	stop := r.stop
	for {
		c.mu.Lock()
		more, inflight := c.sending(), len(c.slots)-len(c.free)
		c.mu.Unlock()
		if !more && inflight == 0 {
			return
		}
		if !more && drain == nil {
			drain = time.NewTimer(cfg.Drain)
			defer drain.Stop()
			drainC = drain.C
		}
		select {
		case <-c.wake:
		case <-stop:
			stop = nil
		case <-retry.C:
			c.retransmit(nowNano())
			retry.Reset(retryEvery)
		case <-drainC:
			c.abandon()
			return
		case <-r.ctx.Done():
			c.abandon()
			return
		}
	}
}

// publishPaced sends on the pacer's schedule, at most Window in flight; the
// reader returns a credit for every answered message.
func (c *client) publishPaced(p *pacer) {
	r := c.r
	cfg := r.cfg
	retryEvery := max(cfg.RetryTimeout/4, time.Millisecond)
	retry := time.NewTimer(retryEvery)
	defer retry.Stop()
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	defer pace.Stop()
	for {
		c.mu.Lock()
		more, seq := c.sending(), c.seq
		c.mu.Unlock()
		if !more {
			break
		}
		if now := time.Now(); p.due(now) <= seq {
			pace.Reset(p.at(seq).Sub(now))
			select {
			case <-pace.C:
			case <-retry.C:
				pace.Stop()
				c.retransmit(nowNano())
				retry.Reset(retryEvery)
			case <-r.stop:
			}
			continue
		}
		select {
		case <-c.credit:
		case <-retry.C:
			c.retransmit(nowNano())
			retry.Reset(retryEvery)
			continue
		case <-r.stop:
			continue
		}
		c.mu.Lock()
		ok := c.sendLocked()
		c.mu.Unlock()
		if !ok {
			c.giveCredit()
		}
	}

	// Drain: wait for the answers still outstanding, retransmitting as due.
	deadline := time.NewTimer(cfg.Drain)
	defer deadline.Stop()
	for c.inflight() > 0 {
		select {
		case <-c.credit:
		case <-retry.C:
			c.retransmit(nowNano())
			retry.Reset(retryEvery)
		case <-deadline.C:
			c.abandon()
			return
		case <-r.ctx.Done():
			c.abandon()
			return
		}
	}
}
