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
	c.publishAcked(p)
	if lim := p.offered(); lim >= 0 {
		c.offered = lim
	}
}

func (c *client) newPublish(payload []byte) mqttsn.Publish {
	cfg := c.r.cfg
	return mqttsn.Publish{QoS: mqttsn.QoS(cfg.QoS), TopicIDType: cfg.TopicType, TopicID: c.topicID, Data: payload}
}

// waitUntil sleeps until t or the end of the run; it reports false when the
// run ended.
func (r *runner) waitUntil(tm *time.Timer, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm.Reset(d)
	select {
	case <-tm.C:
		return true
	case <-r.stop:
		tm.Stop()
		return false
	}
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

// publishAcked sends QoS 1/2 PUBLISHes, at most Window in flight; the reader
// returns a credit for every answered message.
func (c *client) publishAcked(p *pacer) {
	r := c.r
	cfg := r.cfg
	w := len(c.slots)
	gens := uint16(0xFFFF / w) // generations of message ids per slot
	payload := make([]byte, cfg.PayloadSize)
	pub := c.newPublish(payload)
	retryEvery := max(cfg.RetryTimeout/4, time.Millisecond)
	retry := time.NewTimer(retryEvery)
	defer retry.Stop()
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	defer pace.Stop()

	var seq int64
	for !r.stopped.Load() {
		if lim := p.offered(); lim >= 0 && seq >= lim {
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
		i := c.free[len(c.free)-1]
		c.free = c.free[:len(c.free)-1]
		s := &c.slots[i]
		s.msgID = uint16(1 + i + w*int(s.gen))
		s.gen = (s.gen + 1) % gens
		ns := nowNano()
		stamp(payload, ns, uint32(c.idx), uint32(seq))
		pub.MsgID = s.msgID
		s.buf, _ = pub.AppendBinary(s.buf[:0])
		s.inUse, s.state, s.tries, s.firstAt, s.lastAt = true, slotPublished, 0, ns, ns
		b := s.buf
		c.mu.Unlock()
		seq++
		if _, err := c.conn.Write(b); err != nil {
			c.sendErrs++
			c.mu.Lock()
			s.inUse = false
			c.free = append(c.free, i)
			c.mu.Unlock()
			c.giveCredit()
			continue
		}
		c.sent++
		c.lastSend = ns
	}
	c.offered = seq

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
