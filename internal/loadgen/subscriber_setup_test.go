package loadgen

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
)

// fakeBroker is a scripted MQTT v5 broker on a loopback TCP socket: it
// accepts one client, answers its CONNECT and SUBSCRIBE, and reports the
// subscription's topic filter.
type fakeBroker struct {
	ln     net.Listener
	refuse bool // answer SUBACK with 0x87 Not authorized
	filter chan string
	done   chan error
}

func startFakeBroker(t *testing.T, refuse bool) *fakeBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBroker{ln: ln, refuse: refuse, filter: make(chan string, 1), done: make(chan error, 1)}
	go func() { b.done <- b.serve() }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-b.done; err != nil {
			t.Errorf("fake broker: %v", err)
		}
	})
	return b
}

func (b *fakeBroker) serve() error {
	conn, err := b.ln.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	cp, err := packets.ReadPacket(conn)
	if err != nil {
		return err
	}
	if cp.Type != packets.CONNECT {
		return errors.New("first packet is not CONNECT")
	}
	if _, err := packets.NewControlPacket(packets.CONNACK).WriteTo(conn); err != nil {
		return err
	}
	cp, err = packets.ReadPacket(conn)
	if err != nil {
		return err
	}
	sub, ok := cp.Content.(*packets.Subscribe)
	if !ok || len(sub.Subscriptions) != 1 {
		return errors.New("second packet is not a SUBSCRIBE of one filter")
	}
	b.filter <- sub.Subscriptions[0].Topic
	ack := packets.NewControlPacket(packets.SUBACK)
	ack.Content.(*packets.Suback).PacketID = sub.PacketID
	ack.Content.(*packets.Suback).Reasons = []byte{sub.Subscriptions[0].QoS}
	if b.refuse {
		ack.Content.(*packets.Suback).Reasons = []byte{packets.SubackNotauthorized}
	}
	if _, err := ack.WriteTo(conn); err != nil {
		return err
	}
	// Until the subscriber disconnects.
	for {
		cp, err := packets.ReadPacket(conn)
		if errors.Is(err, io.EOF) || err == nil && cp.Type == packets.DISCONNECT {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestSubscriberSetupNotBoundByConnectTimeout: the MQTT subscriber's dial,
// CONNECT and SUBSCRIBE are not bounded by Config.ConnectTimeout (the
// MQTT-SN CONNECT burst's resend interval). Sharing its 5 s default made a
// subscribe to the embedded broker fail with "context deadline exceeded" on
// an overloaded host (internal/loadgen/inproc TestTwoSockets); a tiny
// ConnectTimeout makes that failure certain.
func TestSubscriberSetupNotBoundByConnectTimeout(t *testing.T) {
	b := startFakeBroker(t, false)
	cfg := &Config{SubMQTT: b.ln.Addr().String(), ConnectTimeout: time.Nanosecond, Topic: "ward/%d/hr",
		SubQoS: 1, ClientIDPrefix: "lsb-", Logger: slog.New(slog.DiscardHandler)}
	s, err := startMQTTSubscriber(context.Background(), cfg, newDeliveries(1, 0))
	if err != nil {
		t.Fatalf("subscriber setup: %v", err)
	}
	if f := <-b.filter; f != "ward/+/hr" {
		t.Errorf("subscribed to %q, want ward/+/hr", f)
	}
	s.Close()
}

// TestSubscriberSetupRefused: a broker that refuses the subscription fails
// the setup at once, not at a deadline.
func TestSubscriberSetupRefused(t *testing.T) {
	b := startFakeBroker(t, true)
	cfg := &Config{SubMQTT: b.ln.Addr().String(), Topic: "t", ClientIDPrefix: "lsb-",
		Logger: slog.New(slog.DiscardHandler)}
	_, err := startMQTTSubscriber(context.Background(), cfg, newDeliveries(1, 0))
	if err == nil || !strings.Contains(err.Error(), "SUBSCRIBE") || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the SUBSCRIBE refused", err)
	}
	if f := <-b.filter; f != "t" {
		t.Errorf("subscribed to %q, want t", f)
	}
}
