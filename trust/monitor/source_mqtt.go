package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// Broker is one MQTT broker (an area's) the monitor subscribes to.
type Broker struct {
	// URL is mqtt://host:port or tcp://host:port.
	URL string
	// Label names the area in the view (default: the URL's host:port).
	Label string
}

// MQTTSource subscribes to brokers over MQTT v5 (paho.golang) and hands
// every publish to Handle on one worker goroutine (paho's reader never
// waits for a key fetch). A lost connection is retried every Retry.
type MQTTSource struct {
	Brokers []Broker
	// Filters are the topic filters (default ward/+/patient/+/#).
	Filters []string
	// Handle gets each publish: the broker's label, topic and payload.
	Handle func(ctx context.Context, area, topic string, payload []byte)
	// ClientID prefixes the MQTT client ids (default "lsmqtt-monitor").
	ClientID string
	Retry    time.Duration // default 2 s
	// OnConnect, if set, is told of every (re)connection and failure.
	OnConnect func(area string, err error)
	Logger    *slog.Logger

	dropped atomic.Uint64
}

type publish struct {
	area, topic string
	payload     []byte
}

// Dropped counts publishes dropped because the worker fell behind.
func (s *MQTTSource) Dropped() uint64 { return s.dropped.Load() }

// Run connects to every broker and delivers publishes until ctx ends.
func (s *MQTTSource) Run(ctx context.Context) error {
	if len(s.Brokers) == 0 {
		return errors.New("monitor: no broker")
	}
	if s.Handle == nil {
		return errors.New("monitor: no handler")
	}
	if len(s.Filters) == 0 {
		s.Filters = []string{"ward/+/patient/+/#"}
	}
	if s.ClientID == "" {
		s.ClientID = "lsmqtt-monitor"
	}
	if s.Retry <= 0 {
		s.Retry = 2 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	q := make(chan publish, 4096)
	var wg sync.WaitGroup
	for i, b := range s.Brokers {
		addr, err := brokerAddr(b.URL)
		if err != nil {
			return err
		}
		label := b.Label
		if label == "" {
			label = addr
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runBroker(ctx, fmt.Sprintf("%s-%d", s.ClientID, i+1), addr, label, q)
		}()
	}
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case p := <-q:
			s.Handle(ctx, p.area, p.topic, p.payload)
		}
	}
}

// brokerAddr turns mqtt://host:port (or host:port) into host:port.
func brokerAddr(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if _, _, err2 := net.SplitHostPort(raw); err2 == nil {
			return raw, nil
		}
		return "", fmt.Errorf("monitor: broker %q: want mqtt://host:port", raw)
	}
	switch u.Scheme {
	case "mqtt", "tcp", "":
	default:
		return "", fmt.Errorf("monitor: broker %q: scheme %q not supported (mqtt:// or tcp://)", raw, u.Scheme)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "1883"), nil
	}
	return u.Host, nil
}

func (s *MQTTSource) runBroker(ctx context.Context, id, addr, label string, q chan<- publish) {
	for ctx.Err() == nil {
		err := s.session(ctx, id, addr, label, q)
		if s.OnConnect != nil && err != nil && ctx.Err() == nil {
			s.OnConnect(label, err)
		}
		t := time.NewTimer(s.Retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// session runs one connection until it fails or ctx ends.
func (s *MQTTSource) session(ctx context.Context, id, addr, label string, q chan<- publish) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	cl := paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			p := publish{area: label, topic: pr.Packet.Topic, payload: append([]byte(nil), pr.Packet.Payload...)}
			select {
			case q <- p:
			default:
				s.dropped.Add(1)
			}
			return true, nil
		}},
		OnClientError: func(err error) { s.Logger.Debug("monitor: MQTT client", "broker", label, "err", err) },
	})
	ca, err := cl.Connect(dctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30})
	if err == nil && ca.ReasonCode >= 0x80 {
		err = fmt.Errorf("CONNACK reason code 0x%02x", ca.ReasonCode)
	}
	if err != nil {
		return fmt.Errorf("monitor: CONNECT %s: %w", addr, err)
	}
	subs := make([]paho.SubscribeOptions, len(s.Filters))
	for i, f := range s.Filters {
		subs[i] = paho.SubscribeOptions{Topic: f, QoS: 1}
	}
	sa, err := cl.Subscribe(dctx, &paho.Subscribe{Subscriptions: subs})
	if err == nil {
		for _, r := range sa.Reasons {
			if r >= 0x80 {
				err = fmt.Errorf("SUBACK reason code 0x%02x", r)
			}
		}
	}
	if err != nil {
		_ = cl.Disconnect(&paho.Disconnect{})
		return fmt.Errorf("monitor: SUBSCRIBE at %s: %w", addr, err)
	}
	if s.OnConnect != nil {
		s.OnConnect(label, nil)
	}
	select {
	case <-ctx.Done():
		_ = cl.Disconnect(&paho.Disconnect{})
		conn.Close()
		<-cl.Done()
		return nil
	case <-cl.Done():
		return errors.New("monitor: connection lost")
	}
}
