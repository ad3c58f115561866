package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// mqttSubscriber subscribes at the broker over MQTT v5 (paho.golang), which
// acknowledges QoS 1/2 deliveries itself.
type mqttSubscriber struct {
	url  string
	conn net.Conn
	cl   *paho.Client
}

// subscriberSetupTimeout bounds the subscriber's dial, CONNECT and SUBSCRIBE
// together. They happen once, before anything is measured, so the bound
// only keeps a broker that never answers from hanging the run, and it is
// generous: it used to be Config.ConnectTimeout (default 5 s, the MQTT-SN
// CONNECT burst's resend interval, unrelated to this TCP exchange), and a
// loopback SUBSCRIBE to the embedded broker that takes milliseconds, or
// 70 ms with two CPU hogs, once missed it on a host overloaded by
// race-enabled tests. A broker that refuses fails at once, whatever the bound.
const subscriberSetupTimeout = 60 * time.Second

func startMQTTSubscriber(ctx context.Context, cfg *Config, dl *deliveries) (*mqttSubscriber, error) {
	addr, err := brokerAddr(cfg.SubMQTT)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, subscriberSetupTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: subscriber: %w", err)
	}
	bc := newBufConn(conn)
	cl := paho.NewClient(paho.ClientConfig{
		Conn: bc,
		// paho bounds each exchange by PacketTimeout (default 10 s) inside
		// dctx: give it the same room.
		PacketTimeout: subscriberSetupTimeout,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			dl.deliver(pr.Packet.Payload, pr.Packet.Duplicate(), nowNano())
			return true, nil
		}},
		OnClientError: func(err error) { cfg.Logger.Debug("bench: MQTT subscriber", "err", err) },
	})
	s := &mqttSubscriber{url: cfg.SubMQTT, conn: bc, cl: cl}
	ca, err := cl.Connect(dctx, &paho.Connect{ClientID: cfg.ClientIDPrefix + "sub-mqtt", CleanStart: true, KeepAlive: 30})
	if err == nil && ca.ReasonCode >= 0x80 {
		err = fmt.Errorf("reason code 0x%02x", ca.ReasonCode)
	}
	if err != nil {
		bc.Close()
		return nil, fmt.Errorf("loadgen: subscriber CONNECT to %s: %w", addr, err)
	}
	sa, err := cl.Subscribe(dctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: cfg.subFilter(), QoS: byte(cfg.SubQoS)}}})
	if err == nil && len(sa.Reasons) > 0 && sa.Reasons[0] >= 0x80 {
		err = fmt.Errorf("reason code 0x%02x", sa.Reasons[0])
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("loadgen: subscriber SUBSCRIBE %q: %w", cfg.subFilter(), err)
	}
	return s, nil
}

// bufConn buffers reads: paho reads every packet with several small reads,
// one system call each without a buffer, which at tens of thousands of
// messages per second costs the subscriber more CPU than the broker spends.
//
// It also gathers writes: paho writes the PUBACK of every QoS 1 delivery at
// once, one system call each (and the broker then reads each one); a
// profile of the QoS 1 scenario showed the subscriber's PUBACKs at ~15 % of
// the process's CPU. Write appends to a buffer and wakes a flusher, which
// writes everything gathered meanwhile with one call, so a burst of
// deliveries is acknowledged with a few writes. Nothing waits on the
// acknowledgements but the broker's flow control, which allows 65,535 in
// flight.
type bufConn struct {
	net.Conn
	r *bufio.Reader

	mu    sync.Mutex
	out   []byte
	err   error         // the flusher's last write error, returned by the next Write
	kick  chan struct{} // a write is waiting (capacity 1)
	done  chan struct{} // closed by Close
	flush sync.WaitGroup
}

func newBufConn(c net.Conn) *bufConn {
	bc := &bufConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), kick: make(chan struct{}, 1), done: make(chan struct{})}
	bc.flush.Add(1)
	go bc.flusher()
	return bc
}

func (c *bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

func (c *bufConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if err := c.err; err != nil {
		c.mu.Unlock()
		return 0, err
	}
	c.out = append(c.out, b...)
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default: // the flusher has been woken already and will take this too
	}
	return len(b), nil
}

func (c *bufConn) flusher() {
	defer c.flush.Done()
	var buf []byte
	for {
		select {
		case <-c.kick:
		case <-c.done:
			return
		}
		c.mu.Lock()
		buf, c.out = c.out, buf[:0]
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		if _, err := c.Conn.Write(buf); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
		}
	}
}

// Close stops the flusher, writes what it had not written yet (a
// DISCONNECT) within a second, and closes the connection.
func (c *bufConn) Close() error {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	select {
	case <-c.done:
	default:
		close(c.done)
	}
	c.flush.Wait()
	c.mu.Lock()
	rest := c.out
	c.out = nil
	c.mu.Unlock()
	if len(rest) > 0 {
		_, _ = c.Conn.Write(rest)
	}
	return c.Conn.Close()
}

func (s *mqttSubscriber) String() string { return s.url }

// Close disconnects and waits for the client's goroutines.
func (s *mqttSubscriber) Close() error {
	_ = s.cl.Disconnect(&paho.Disconnect{ReasonCode: 0})
	s.conn.Close()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-s.cl.Done():
	case <-t.C:
	}
	return nil
}
