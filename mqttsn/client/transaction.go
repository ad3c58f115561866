package client

import (
	"context"
	"net"
	"strconv"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// A waiter is a request waiting for its answer. The reader offers each
// received message to the waiters in order; the first that matches takes it.
type waiter struct {
	match   func(m mqttsn.Message, from net.Addr) bool
	anyAddr bool // accept answers from any address (discovery), not only the gateway
	// onAnswer, if set, runs on the reader with c.mu held when the answer
	// matches, before the reader handles the next datagram: state the answer
	// creates (a topic id from SUBACK) exists before a PUBLISH that uses it.
	onAnswer func(mqttsn.Message)
	ch       chan result
}

type result struct {
	m    mqttsn.Message
	from net.Addr
	err  error
}

func (c *Client) addWaiter(w *waiter) {
	c.mu.Lock()
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
}

func (c *Client) removeWaiter(w *waiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			return
		}
	}
}

// offer hands m to the first matching waiter; it reports whether one took it.
func (c *Client) offer(m mqttsn.Message, from net.Addr, fromGW bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range c.waiters {
		if (fromGW || w.anyAddr) && w.match(m, from) {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			if w.onAnswer != nil {
				w.onAnswer(m)
			}
			w.ch <- result{m: m, from: from} // buffered, never blocks
			return true
		}
	}
	return false
}

// failWaiters ends every pending request with err (unsolicited DISCONNECT).
func (c *Client) failWaiters(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.waiters {
		if !w.anyAddr {
			w.ch <- result{err: err}
		}
	}
	c.waiters = c.waiters[:0]
}

type txOpts struct {
	to              net.Addr // destination; nil means the gateway
	anyAddr         bool     // answers may come from anywhere
	lostOnTimeout   bool     // a timeout means the connection is lost (§6.13)
	resetOnActivity bool     // restart Tretry on any datagram from the gateway (§6.14)
	backoff         bool     // double the interval after each retransmission (SEARCHGW, §6.1)
	onAnswer        func(mqttsn.Message)
}

// transact sends req and waits for the first message match accepts,
// retransmitting req every Tretry, at most Nretry times (§6.13). The timer is
// armed before each send so a test driving a virtual clock sees it pending
// as soon as it sees the datagram.
func (c *Client) transact(ctx context.Context, req mqttsn.Message, match func(mqttsn.Message, net.Addr) bool, o txOpts) (result, error) {
	w := &waiter{match: match, anyAddr: o.anyAddr, onAnswer: o.onAnswer, ch: make(chan result, 1)}
	c.addWaiter(w)
	defer c.removeWaiter(w)
	tick := make(chan struct{}, 1)
	interval := c.cfg.RetryInterval
	timer := c.clk.AfterFunc(interval, func() {
		select {
		case tick <- struct{}{}:
		default:
		}
	})
	defer timer.Stop()
	sendReq := func() error {
		if o.to != nil {
			return c.sendTo(req, o.to)
		}
		return c.send(req)
	}
	if o.resetOnActivity {
		c.mu.Lock()
		c.wakeTimer, c.wakeInterval = timer, interval
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.wakeTimer = nil
			c.mu.Unlock()
		}()
	}
	if err := sendReq(); err != nil {
		return result{}, err
	}
	for retries := 0; ; {
		select {
		case r := <-w.ch:
			return r, r.err
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-c.ctx.Done():
			return result{}, ErrClosed
		case <-tick:
			if retries >= c.cfg.MaxRetries {
				c.stats.timeouts.Add(1)
				err := &TimeoutError{Type: req.Type(), Retries: retries}
				if o.lostOnTimeout {
					c.lost(err)
				}
				return result{}, err
			}
			retries++
			setDUP(req)
			if o.backoff {
				interval *= 2
			}
			timer.Reset(interval)
			c.stats.retransmissions.Add(1)
			if err := sendReq(); err != nil {
				return result{}, err
			}
		}
	}
}

// setDUP marks a retransmitted PUBLISH or SUBSCRIBE (§5.3.4).
func setDUP(m mqttsn.Message) {
	switch m := m.(type) {
	case *mqttsn.Publish:
		m.DUP = true
	case *mqttsn.Subscribe:
		m.DUP = true
	}
}

// TimeoutError is returned when a request got no answer after Nretry
// retransmissions. It matches ErrTimeout with errors.Is.
type TimeoutError struct {
	Type    mqttsn.MsgType // the request
	Retries int
}

func (e *TimeoutError) Error() string {
	return "mqttsn client: no answer to " + e.Type.String() + " after " + strconv.Itoa(e.Retries) + " retransmissions"
}

func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// expect builds a match function for a reply of type t with message id id
// (id < 0: any id).
func expect(t mqttsn.MsgType, id int) func(mqttsn.Message, net.Addr) bool {
	return func(m mqttsn.Message, _ net.Addr) bool {
		if m.Type() != t {
			return false
		}
		if id < 0 {
			return true
		}
		return msgIDOf(m) == uint16(id)
	}
}

func msgIDOf(m mqttsn.Message) uint16 {
	switch m := m.(type) {
	case *mqttsn.Regack:
		return m.MsgID
	case *mqttsn.Puback:
		return m.MsgID
	case *mqttsn.Pubrec:
		return m.MsgID
	case *mqttsn.Pubrel:
		return m.MsgID
	case *mqttsn.Pubcomp:
		return m.MsgID
	case *mqttsn.Suback:
		return m.MsgID
	case *mqttsn.Unsuback:
		return m.MsgID
	}
	return 0
}
