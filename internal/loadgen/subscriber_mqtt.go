package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net"
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

func startMQTTSubscriber(ctx context.Context, cfg *Config, dl *deliveries) (*mqttSubscriber, error) {
	addr, err := brokerAddr(cfg.SubMQTT)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: subscriber: %w", err)
	}
	cl := paho.NewClient(paho.ClientConfig{
		Conn: &bufConn{Conn: conn, r: bufio.NewReaderSize(conn, 64<<10)},
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			dl.deliver(pr.Packet.Payload, pr.Packet.Duplicate(), nowNano())
			return true, nil
		}},
		OnClientError: func(err error) { cfg.Logger.Debug("bench: MQTT subscriber", "err", err) },
	})
	s := &mqttSubscriber{url: cfg.SubMQTT, conn: conn, cl: cl}
	ca, err := cl.Connect(dctx, &paho.Connect{ClientID: cfg.ClientIDPrefix + "sub-mqtt", CleanStart: true, KeepAlive: 30})
	if err == nil && ca.ReasonCode >= 0x80 {
		err = fmt.Errorf("reason code 0x%02x", ca.ReasonCode)
	}
	if err != nil {
		conn.Close()
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
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(b []byte) (int, error) { return c.r.Read(b) }

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
