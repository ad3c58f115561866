package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

const gwWait = 10 * time.Second

// startGatewayCmd runs `lsmqtt gateway args...` in-process and returns what
// it listens on; the command stops when the test ends.
func startGatewayCmd(t *testing.T, args ...string) gatewayInfo {
	t.Helper()
	infoCh := make(chan gatewayInfo, 1)
	gatewayStarted = func(i gatewayInfo) { infoCh <- i }
	t.Cleanup(func() { gatewayStarted = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newApp().RunContext(ctx, append([]string{"lsmqtt", "--log-level", "error", "gateway"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway command: %v", err)
		}
	})
	select {
	case i := <-infoCh:
		return i
	case err := <-done:
		t.Fatalf("gateway command ended: %v", err)
	case <-time.After(gwWait):
		t.Fatal("gateway command did not start")
	}
	return gatewayInfo{}
}

// mqttWatch connects an ordinary MQTT client (paho) to addr and subscribes.
func mqttWatch(t *testing.T, addr, filter string) (*paho.Client, chan *paho.Publish) {
	t.Helper()
	return mqttWatchClient(t, addr, filter, &paho.Connect{ClientID: "watch", CleanStart: true, KeepAlive: 60})
}

// mqttWatchSession is mqttWatch with a persistent session (client id "watch-s").
func mqttWatchSession(t *testing.T, addr, filter string) (*paho.Client, chan *paho.Publish) {
	t.Helper()
	exp := uint32(3600)
	return mqttWatchClient(t, addr, filter, &paho.Connect{ClientID: "watch-s", KeepAlive: 60,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &exp}})
}

func mqttWatchClient(t *testing.T, addr, filter string, cp *paho.Connect) (*paho.Client, chan *paho.Publish) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, gwWait)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *paho.Publish, 100)
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) { got <- pr.Packet; return true, nil },
	}})
	ctx, cancel := context.WithTimeout(context.Background(), gwWait)
	defer cancel()
	if _, err := c.Connect(ctx, cp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(&paho.Disconnect{}); <-c.Done() })
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	return c, got
}

func snClient(t *testing.T, gw net.Addr, id string, onPublish func(client.Message)) *client.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(conn, gw, client.Config{ClientID: id, CleanSession: true, OnPublish: onPublish})
	t.Cleanup(func() { c.Close(); conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), gwWait)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("MQTT-SN connect: %v", err)
	}
	return c
}

func TestGatewayCommandEmbedded(t *testing.T) {
	info := startGatewayCmd(t, "--listen", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0",
		"--metrics", "127.0.0.1:0", "--predefined", "7=ward/3/spo2")
	if len(info.UDP) != 1 || info.MQTT == "" || info.Metrics == "" {
		t.Fatalf("started with %+v", info)
	}
	pub, watched := mqttWatch(t, info.MQTT, "ward/#")

	got := make(chan client.Message, 10)
	sn := snClient(t, info.UDP[0], "sensor-1", func(m client.Message) { got <- m })
	ctx, cancel := context.WithTimeout(context.Background(), gwWait)
	defer cancel()

	// MQTT-SN → MQTT: a normal topic at QoS 1 and a pre-defined one at QoS 0.
	if err := sn.Publish(ctx, client.Named("ward/3/hr"), mqttsn.QoS1, false, []byte("72")); err != nil {
		t.Fatal(err)
	}
	if err := sn.Publish(ctx, client.Predefined(7), mqttsn.QoS0, false, []byte("97")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ topic, payload string }{{"ward/3/hr", "72"}, {"ward/3/spo2", "97"}} {
		select {
		case p := <-watched:
			if p.Topic != want.topic || string(p.Payload) != want.payload {
				t.Fatalf("MQTT subscriber got %s %q, want %s %q", p.Topic, p.Payload, want.topic, want.payload)
			}
		case <-time.After(gwWait):
			t.Fatalf("MQTT subscriber did not get %s", want.topic)
		}
	}

	// MQTT → MQTT-SN.
	if _, err := sn.Subscribe(ctx, client.Named("cmd/sensor-1"), mqttsn.QoS1); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, &paho.Publish{Topic: "cmd/sensor-1", QoS: 1, Payload: []byte("calibrate")}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Data) != "calibrate" || m.Topic != "cmd/sensor-1" {
			t.Fatalf("MQTT-SN client got %+v", m)
		}
	case <-time.After(gwWait):
		t.Fatal("MQTT-SN subscriber got nothing")
	}

	// /healthz reports the broker, /metrics the gateway and the broker adapter.
	res, err := http.Get("http://" + info.Metrics + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h healthReport
	err = json.NewDecoder(res.Body).Decode(&h)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || h.Status != "ok" || h.Broker != "connected" || h.Kind != "embedded" || h.Clients["active"] != 1 {
		t.Fatalf("/healthz: %d %+v %v", res.StatusCode, h, err)
	}
	res, err = http.Get("http://" + info.Metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`lsmqtt_gateway_messages_in_total{qos="1",type="PUBLISH"} 1`,
		`lsmqtt_broker_info{kind="embedded"} 1`, `lsmqtt_gateway_broker_state{state="connected"} 1`, "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if res, err := http.Get("http://" + info.Metrics + "/debug/pprof/"); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("pprof served without --pprof: %d", res.StatusCode)
		}
	}
}

func TestGatewayCommandExternalBrokerHealth(t *testing.T) {
	// An external broker that is not there: the gateway runs, /healthz says so.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	info := startGatewayCmd(t, "--listen", "127.0.0.1:0", "--broker", "mqtt://"+dead, "--metrics", "127.0.0.1:0", "--pprof")
	res, err := http.Get("http://" + info.Metrics + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h healthReport
	json.NewDecoder(res.Body).Decode(&h)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || h.Status != "degraded" || h.Broker == "connected" || h.Kind != "aggregating" {
		t.Fatalf("/healthz with the broker down: %d %+v", res.StatusCode, h)
	}
	if info.MQTT != "" {
		t.Fatalf("embedded MQTT listener with an external broker: %s", info.MQTT)
	}
	res, err = http.Get("http://" + info.Metrics + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/debug/pprof/ with --pprof: %d", res.StatusCode)
	}
}

// parseGatewayArgs runs the command's flag, env and config handling only.
func parseGatewayArgs(args ...string) (*gatewayOptions, error) {
	flags := gatewayFlags()
	var opts *gatewayOptions
	app := &cli.App{Name: "lsmqtt", Writer: io.Discard, ErrWriter: io.Discard, Commands: []*cli.Command{{
		Name: "gateway", Flags: flags, Before: gatewayBefore(flags),
		Action: func(c *cli.Context) error {
			o, err := gatewayOptionsFrom(c)
			opts = o
			return err
		},
	}}}
	err := app.Run(append([]string{"lsmqtt", "gateway"}, args...))
	return opts, err
}

func TestGatewayFlagDefaults(t *testing.T) {
	o, err := parseGatewayArgs()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.listen) != 1 || o.listen[0] != ":1883" || o.brokerURL != "" || o.mqttListen != ":1883" ||
		o.mode != broker.Aggregating || o.cfg.MaxClients != 10000 || o.cfg.AdvertiseInterval != 15*time.Minute {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestGatewayFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--peer", "gw2=10.0.0.2:1883"}, "--peer-keys"},
		{[]string{"--broker", "http://x"}, "mqtt:// or mqtts://"},
		{[]string{"--broker-mode", "sideways", "--broker", "mqtt://x"}, "aggregating or transparent"},
		{[]string{"--broker-mode", "transparent"}, "needs an external"},
		{[]string{"--pprof"}, "--pprof needs --metrics"},
		{[]string{"--ts", "127.0.0.1:1884"}, "--ts-cred"},
		{[]string{"--open", "--ts", "127.0.0.1:1884", "--ts-cred", "x"}, "exclude each other"},
		{[]string{"--predefined", "0=a"}, "reserved"},
		{[]string{"--predefined", "1=a/+"}, "invalid topic"},
		{[]string{"--predefined", "1=a", "--predefined", "2=a"}, "two ids"},
		{[]string{"--max-clients", "0"}, "must be positive"},
		{[]string{"--gateway-id", "256"}, "1-255"},
		{[]string{"--advertise-addr", "nowhere:x"}, "--advertise-addr"},
	} {
		_, err := parseGatewayArgs(tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want it to mention %q", tt.args, err, tt.want)
		}
	}
}

func TestGatewayConfigFileAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gw.toml")
	os.WriteFile(path, []byte(`
broker = "mqtt://broker.example:1884"
broker-mode = "transparent"
max-clients = 500
session-expiry = "2h"
predefined = ["1=ward/1/hr", "2=ward/1/spo2"]
listen = ["127.0.0.1:1885"]
`), 0o600)
	t.Setenv("LSMQTT_GATEWAY_MAX_INFLIGHT", "4")
	o, err := parseGatewayArgs("--config", path, "--max-clients", "600")
	if err != nil {
		t.Fatal(err)
	}
	if o.brokerURL != "mqtt://broker.example:1884" || o.mode != broker.Transparent || o.cfg.SessionExpiry != 2*time.Hour ||
		len(o.cfg.PredefinedTopics) != 2 || o.cfg.PredefinedTopics[2] != "ward/1/spo2" || o.listen[0] != "127.0.0.1:1885" {
		t.Fatalf("from the file: %+v", o)
	}
	if o.cfg.MaxClients != 600 {
		t.Fatalf("--max-clients on the command line should beat the file: %d", o.cfg.MaxClients)
	}
	if o.cfg.MaxInflight != 4 {
		t.Fatalf("LSMQTT_GATEWAY_MAX_INFLIGHT: %d", o.cfg.MaxInflight)
	}

	os.WriteFile(path, []byte("max-client = 5\n"), 0o600)
	if _, err := parseGatewayArgs("--config", path); err == nil || !strings.Contains(err.Error(), "unknown key(s) max-client") {
		t.Fatalf("typo in the config file: %v", err)
	}
	os.WriteFile(path, []byte("max-clients = \n"), 0o600)
	if _, err := parseGatewayArgs("--config", path); err == nil {
		t.Fatal("malformed TOML accepted")
	}
}

// TestDeploySampleConfig checks that the sample config shipped in docs/deploy/
// parses and means what docs/deploy.md says.
func TestDeploySampleConfig(t *testing.T) {
	o, err := parseGatewayArgs("--config", filepath.Join("..", "..", "docs", "deploy", "gateway.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.listen) == 0 || o.cfg.MaxClients <= 0 || o.metricsAddr == "" || len(o.cfg.PredefinedTopics) == 0 {
		t.Fatalf("sample config: %+v", o)
	}
}
