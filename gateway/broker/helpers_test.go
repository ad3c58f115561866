package broker

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor bounds every wait in these tests; it is a failure timeout, never a
// pacing delay.
const waitFor = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitFor)
	t.Cleanup(cancel)
	return ctx
}

// delivery is one DeliverFunc call.
type delivery struct {
	client string
	msg    Message
}

// recorder is a DeliverFunc that never blocks (as the gateway's must not).
type recorder chan delivery

func newRecorder() recorder { return make(recorder, 10000) }

func (r recorder) deliver(clientID string, m Message) {
	select {
	case r <- delivery{clientID, m}:
	default:
		panic("recorder full")
	}
}

func (r recorder) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r:
		return d
	case <-time.After(waitFor):
		t.Fatal("no delivery")
		return delivery{}
	}
}

// none asserts nothing is queued now. Only meaningful after a later event that
// would have followed the unwanted one (a sentinel message).
func (r recorder) none(t *testing.T) {
	t.Helper()
	select {
	case d := <-r:
		t.Fatalf("unexpected delivery %+v", d)
	default:
	}
}

// mqttClient is an ordinary MQTT v5 client (paho) on a TCP broker.
type mqttClient struct {
	*paho.Client
	recv chan *paho.Publish
}

func dialMQTT(t *testing.T, addr, id string, clean bool) *mqttClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	mc := &mqttClient{recv: make(chan *paho.Publish, 10000)}
	mc.Client = paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				mc.recv <- pr.Packet
				return true, nil
			},
		},
	})
	cp := &paho.Connect{ClientID: id, CleanStart: clean, KeepAlive: 60}
	if !clean {
		exp := uint32(3600)
		cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: &exp}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := mc.Connect(ctx, cp); err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(mc.close)
	return mc
}

func (mc *mqttClient) close() {
	_ = mc.Disconnect(&paho.Disconnect{})
	<-mc.Done()
}

func (mc *mqttClient) subscribe(t *testing.T, filter string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	sa, err := mc.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if err != nil {
		t.Fatalf("subscribe %q: %v", filter, err)
	}
	if len(sa.Reasons) != 1 || sa.Reasons[0] != qos {
		t.Fatalf("subscribe %q: reasons %v", filter, sa.Reasons)
	}
}

func (mc *mqttClient) publish(t *testing.T, topic string, payload string, qos byte, retain bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := mc.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: qos, Retain: retain}); err != nil {
		t.Fatalf("publish %q: %v", topic, err)
	}
}

func (mc *mqttClient) next(t *testing.T) *paho.Publish {
	t.Helper()
	select {
	case p := <-mc.recv:
		return p
	case <-time.After(waitFor):
		t.Fatal("MQTT subscriber received nothing")
		return nil
	}
}
