package gatewayauth

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// waitFor bounds every wait for something that should happen promptly; it
// only turns a hang into a failure.
const waitFor = 10 * time.Second

// tap records every datagram through a PacketConn.
type tap struct {
	net.PacketConn
	mu   sync.Mutex
	seen [][]byte
}

func (t *tap) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := t.PacketConn.ReadFrom(b)
	if n > 0 {
		t.record(b[:n])
	}
	return n, a, err
}

func (t *tap) WriteTo(b []byte, a net.Addr) (int, error) {
	t.record(b)
	return t.PacketConn.WriteTo(b, a)
}

func (t *tap) record(b []byte) {
	t.mu.Lock()
	t.seen = append(t.seen, bytes.Clone(b))
	t.mu.Unlock()
}

func (t *tap) contains(needle []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.seen {
		if bytes.Contains(d, needle) {
			return true
		}
	}
	return false
}

func listen(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// area is a TS, a gateway with TS admission and key relay, and the embedded
// broker, wired as `lsmqtt ts serve` + `lsmqtt gateway` would be.
type area struct {
	reg    *registry.Registry
	tsAddr net.Addr
	gwAddr net.Addr
	gwTap  *tap // the gateway's MQTT-SN socket
	relTap *tap // the gateway's socket towards the TS
	b      *broker.Embedded
	relay  *KeyRelay
}

func startArea(t *testing.T) *area {
	t.Helper()
	a := &area{}
	var err error
	a.reg, err = registry.Open(filepath.Join(t.TempDir(), "ts.db"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.reg.Close() })
	svc, err := ts.NewService(ts.Config{Registry: a.reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	tsConn := listen(t)
	a.tsAddr = tsConn.LocalAddr()
	serve(t, func(ctx context.Context, started func()) error {
		srv := ts.NewServer(svc)
		srv.NotifyStarted = func(net.Addr) { started() }
		return srv.Serve(ctx, tsConn)
	})

	gwP, err := a.reg.RegisterGateway("gw-ward3")
	if err != nil {
		t.Fatal(err)
	}
	gwCreds := &tsclient.Credentials{Name: gwP.Name, PSS: gwP.PSS}
	a.relTap = &tap{PacketConn: listen(t)}
	// Real-clock retransmission intervals here are generous: each failure
	// path that waits for one is bounded by it, and a loaded host under
	// -race once took longer than the 2 x 200 ms the gateway gave a
	// registered node to answer its challenge.
	tsc, err := tsclient.NewClient(tsclient.ClientConfig{TS: a.tsAddr, Conn: a.relTap, RetryInterval: time.Second, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tsc.Close() })
	a.relay = &KeyRelay{Client: tsc}

	var g *gateway.Gateway
	a.b, err = broker.NewEmbedded(broker.EmbeddedConfig{TCPAddr: "127.0.0.1:0",
		Deliver: func(id string, m broker.Message) { g.Deliver(id, m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.b.Close() })
	g, err = gateway.New(gateway.Config{
		Registerer:    prometheus.NewRegistry(),
		RetryInterval: time.Second, MaxRetries: 1,
		Authenticator: &Authenticator{Gateway: "gw-ward3", Verifier: &tsclient.RemoteVerifier{Client: tsc, Creds: gwCreds}},
		Extensions:    a.relay.Extensions(),
		DenyQoSMinus1: true,
	}, a.b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	a.gwTap = &tap{PacketConn: listen(t)}
	a.gwAddr = a.gwTap.LocalAddr()
	serve(t, func(ctx context.Context, started func()) error {
		// NotifyStarted is a Config field; Serve reads from the first call,
		// so a datagram sent after New is queued in the socket anyway.
		started()
		return g.Serve(ctx, a.gwTap)
	})
	return a
}

// serve runs f on its own goroutine until the test ends.
func serve(t *testing.T, f func(ctx context.Context, started func()) error) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- f(ctx, func() { close(started) }) }()
	<-started
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// node is an MQTT-SN client that answers admission challenges with creds.
func (a *area) node(t *testing.T, creds *tsclient.Credentials) *client.Client {
	t.Helper()
	return a.nodeRetry(t, creds, 2*time.Second)
}

// nodeRetry is node with the client's retransmission interval given.
func (a *area) nodeRetry(t *testing.T, creds *tsclient.Credentials, retry time.Duration) *client.Client {
	t.Helper()
	var c *client.Client
	c = client.New(listen(t), a.gwAddr, client.Config{
		ClientID: creds.Name, CleanSession: true, RetryInterval: retry, MaxRetries: 3,
		OnUnsolicited: func(m mqttsn.Message, _ net.Addr) {
			if ch, ok := m.(*mqttsn.TSChallenge); ok {
				if p, err := tsclient.Prove(creds, ch); err == nil {
					c.Send(p)
				}
			}
		},
	})
	t.Cleanup(func() { c.Close() })
	return c
}

func (a *area) register(t *testing.T, name, group string) *tsclient.Credentials {
	p, err := a.reg.RegisterNode(name, group)
	if err != nil {
		t.Fatal(err)
	}
	return &tsclient.Credentials{Name: p.Name, PSS: p.PSS, Sender: p.Sender, Group: p.Group}
}

type mqttSub struct {
	*paho.Client
	recv chan *paho.Publish
}

func dialMQTT(t *testing.T, addr, id, filter string) *mqttSub {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	mc := &mqttSub{recv: make(chan *paho.Publish, 100)}
	mc.Client = paho.NewClient(paho.ClientConfig{Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) { mc.recv <- pr.Packet; return true, nil },
		}})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := mc.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(&paho.Disconnect{}); <-mc.Done() })
	return mc
}

func (mc *mqttSub) next(t *testing.T) *paho.Publish {
	t.Helper()
	select {
	case p := <-mc.recv:
		return p
	case <-time.After(waitFor):
		t.Fatal("MQTT subscriber received nothing")
		return nil
	}
}

// TestEndToEnd: node → gateway → broker → caregiver with the TS. The
// caregiver reads the plaintext; a plain MQTT subscriber sees only the
// envelope; the plaintext appears nowhere in the gateway's traffic (either
// socket) or in the broker's retained state.
func TestEndToEnd(t *testing.T) {
	a := startArea(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	const topic = "ward/3/patient/17/vitals"
	plaintext := []byte("HR=072;SpO2=098;T=36.9;BP=120/80")

	nodeCreds := a.register(t, "z1-7", "patient-17")
	nurseP, _ := a.reg.RegisterCaregiver("nurse")
	a.reg.Grant("nurse", "patient-17")
	nurse := &tsclient.Credentials{Name: nurseP.Name, PSS: nurseP.PSS}

	plain := dialMQTT(t, a.b.TCPAddr(), "eavesdropper", "ward/#")
	care := dialMQTT(t, a.b.TCPAddr(), "nurse-monitor", "ward/3/patient/17/#")

	n := a.node(t, nodeCreds)
	if err := n.Connect(ctx); err != nil {
		t.Fatalf("registered node not admitted: %v", err)
	}
	sess, err := tsclient.NewSession(tsclient.SessionConfig{Creds: nodeCreds, Exchanger: tsclient.SNExchanger{Client: n}})
	if err != nil {
		t.Fatal(err)
	}
	env, err := sess.Seal(ctx, nil, topic, plaintext)
	if err != nil {
		t.Fatalf("sealing through the gateway's key relay: %v", err)
	}
	if err := n.Publish(ctx, client.Named(topic), mqttsn.QoS1, true, env); err != nil {
		t.Fatal(err)
	}

	// The caregiver reads it, fetching the key from the TS directly.
	tsc, err := tsclient.NewClient(tsclient.ClientConfig{TS: a.tsAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer tsc.Close()
	reader, err := tsclient.NewReader(tsclient.ReaderConfig{Creds: nurse, Exchanger: tsc})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	got := care.next(t)
	pt, h, err := reader.Open(ctx, "patient-17", got.Topic, nil, got.Payload)
	if err != nil || !bytes.Equal(pt, plaintext) || h.Sender != nodeCreds.Sender {
		t.Fatalf("caregiver: %q %+v %v", pt, h, err)
	}

	// The eavesdropper on the broker sees the envelope only.
	seen := plain.next(t)
	if !bytes.Equal(seen.Payload, env) || bytes.Contains(seen.Payload, plaintext) {
		t.Fatalf("plain subscriber saw %q", seen.Payload)
	}
	// Nowhere in the gateway's or the broker's traffic or state.
	for _, part := range [][]byte{plaintext, []byte("SpO2=098"), []byte("HR=072")} {
		if a.gwTap.contains(part) || a.relTap.contains(part) {
			t.Fatalf("%q crossed the gateway in clear", part)
		}
		for _, pk := range a.b.Server().Topics.Messages("ward/#") {
			if bytes.Contains(pk.Payload, part) {
				t.Fatalf("%q in the broker's retained state", part)
			}
		}
	}
	if len(a.b.Server().Topics.Messages("ward/#")) != 1 {
		t.Fatal("retained message missing: the state check above checked nothing")
	}
	// Nor the key material: the node's session key never crosses in clear.
	key := sess.Key().Material()
	if a.gwTap.contains(key) || a.relTap.contains(key) {
		t.Fatal("session key crossed the gateway in clear")
	}
	if relayed, _ := a.relay.Stats(); relayed == 0 {
		t.Fatal("the key request did not go through the relay")
	}
	// A replayed envelope (the broker re-delivering, or an attacker
	// re-publishing) is rejected.
	if _, _, err := reader.Open(ctx, "patient-17", got.Topic, nil, got.Payload); !errors.Is(err, envelope.ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	sess.Close()
}

func TestAdmissionThroughGateway(t *testing.T) {
	a := startArea(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	good := a.register(t, "z1-1", "p1")
	if err := a.node(t, good).Connect(ctx); err != nil {
		t.Fatalf("registered: %v", err)
	}
	// Unregistered node (it answers the challenge with a made-up secret).
	ghost := &tsclient.Credentials{Name: "ghost", PSS: bytes.Repeat([]byte{1}, 16)}
	if err := a.node(t, ghost).Connect(ctx); !errors.Is(err, mqttsn.RejectedNotSupported) {
		t.Fatalf("unregistered: %v", err)
	}
	// Registered name, wrong secret (an impostor).
	imp := *good
	imp.PSS = bytes.Repeat([]byte{2}, 16)
	if err := a.node(t, &imp).Connect(ctx); !errors.Is(err, mqttsn.RejectedNotSupported) {
		t.Fatalf("impostor: %v", err)
	}
	// Revoked node.
	rev := a.register(t, "z1-2", "p1")
	a.reg.Revoke("z1-2")
	if err := a.node(t, rev).Connect(ctx); !errors.Is(err, mqttsn.RejectedNotSupported) {
		t.Fatalf("revoked: %v", err)
	}
	// A client that does not speak the TS extension (no proof).
	// (Its CONNECT retransmission interval is longer than the gateway's
	// challenge retries: a repeated CONNECT restarts admission.)
	c := client.New(listen(t), a.gwAddr, client.Config{ClientID: "third-party", RetryInterval: 5 * time.Second, MaxRetries: 1})
	defer c.Close()
	if err := c.Connect(ctx); !errors.Is(err, mqttsn.RejectedNotSupported) {
		t.Fatalf("no proof: %v", err)
	}
	// An unadmitted client's key request is not relayed.
	before, _ := a.relay.Stats()
	req := &mqttsn.TSKeyRequest{Nonce: make([]byte, 16), Name: []byte("ghost"), Group: []byte("p1"), MAC: make([]byte, 16)}
	b, _ := req.AppendBinary(nil)
	pc := listen(t)
	pc.WriteTo(b, a.gwAddr)
	// Then a legitimate request from an admitted node: relayed. Datagrams
	// are handled in order, so once it is answered the ghost's was judged.
	// The node does not resend within the test's time (a resent key
	// request is relayed again, and a loaded host under -race can be slow
	// to answer); its PINGRESP, after the answer, says the relay has
	// counted the request it forwarded.
	n2 := a.nodeRetry(t, good, waitFor)
	if err := n2.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	s2, _ := tsclient.NewSession(tsclient.SessionConfig{Creds: good, Exchanger: tsclient.SNExchanger{Client: n2}})
	defer s2.Close()
	if _, err := s2.Sealer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n2.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	relayed, refused := a.relay.Stats()
	if relayed != before+1 || refused != 1 {
		t.Fatalf("relayed %d (before %d), refused %d", relayed, before, refused)
	}
}
