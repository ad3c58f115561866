package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// fakeSNGateway answers an MQTT-SN client on a loopback socket the way a
// gateway would, and reports every message it receives on the returned channel.
// After a SUBSCRIBE it publishes two messages on the granted topic id.
func fakeSNGateway(t *testing.T) (port int, got chan mqttsn.Message) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	got = make(chan mqttsn.Message, 64)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			m, err := mqttsn.DecodeDatagram(bytes.Clone(buf[:n]))
			if err != nil {
				continue
			}
			got <- m
			send := func(r mqttsn.Message) {
				b, _ := mqttsn.Marshal(r)
				conn.WriteTo(b, from)
			}
			switch m := m.(type) {
			case *mqttsn.Connect:
				send(&mqttsn.Connack{})
			case *mqttsn.Register:
				send(&mqttsn.Regack{TopicID: 7, MsgID: m.MsgID})
			case *mqttsn.Publish:
				switch m.QoS {
				case mqttsn.QoS1:
					send(&mqttsn.Puback{TopicID: m.TopicID, MsgID: m.MsgID})
				case mqttsn.QoS2:
					send(&mqttsn.Pubrec{MsgID: m.MsgID})
				}
			case *mqttsn.Pubrel:
				send(&mqttsn.Pubcomp{MsgID: m.MsgID})
			case *mqttsn.Subscribe:
				send(&mqttsn.Suback{QoS: m.QoS, TopicID: 5, MsgID: m.MsgID})
				send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 5, MsgID: 100, Data: []byte("71")})
				send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 5, MsgID: 101, Data: []byte("72")})
			case *mqttsn.Disconnect:
				send(&mqttsn.Disconnect{})
			}
		}
	}()
	return conn.LocalAddr().(*net.UDPAddr).Port, got
}

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // safety bound only
	defer cancel()
	if err := app.RunContext(ctx, append([]string{"lsmqtt"}, args...)); err != nil {
		t.Fatalf("lsmqtt %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

func drain(ch chan mqttsn.Message) []mqttsn.Message {
	var out []mqttsn.Message
	for {
		select {
		case m := <-ch:
			out = append(out, m)
		default:
			return out
		}
	}
}

func TestPubQoS1NormalTopic(t *testing.T) {
	port, got := fakeSNGateway(t)
	out := runCLI(t, "pub", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-i", "cli-test", "-t", "ward/1/hr",
		"-q", "1", "-m", "72", "--repeat", "2", "--json")
	var res struct {
		Published int    `json:"published"`
		Topic     string `json:"topic"`
		BytesSent uint64 `json:"bytes_sent"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	// CONNECT 14 + REGISTER 15 + 2 × PUBLISH 9 + DISCONNECT 2
	if res.Published != 2 || res.Topic != "ward/1/hr" || res.BytesSent != 14+15+2*9+2 {
		t.Fatalf("result %+v", res)
	}
	var types []string
	for _, m := range drain(got) {
		types = append(types, m.Type().String())
		if c, ok := m.(*mqttsn.Connect); ok && string(c.ClientID) != "cli-test" {
			t.Fatalf("client id %q", c.ClientID)
		}
		if p, ok := m.(*mqttsn.Publish); ok && (p.TopicID != 7 || string(p.Data) != "72" || p.QoS != mqttsn.QoS1) {
			t.Fatalf("PUBLISH %#v", p)
		}
	}
	if want := "CONNECT REGISTER PUBLISH PUBLISH DISCONNECT"; strings.Join(types, " ") != want {
		t.Fatalf("gateway saw %v, want %s", types, want)
	}
}

func TestPubQoSMinus1Predefined(t *testing.T) {
	port, got := fakeSNGateway(t)
	runCLI(t, "pub", "-p", strconv.Itoa(port), "-T", "3", "-q", "-1", "-m", "x")
	p := (<-got).(*mqttsn.Publish)
	if p.QoS != mqttsn.QoSMinus1 || p.TopicIDType != mqttsn.TopicIDPredefined || p.TopicID != 3 {
		t.Fatalf("PUBLISH %#v", p)
	}
}

func TestSubJSON(t *testing.T) {
	port, _ := fakeSNGateway(t)
	out := runCLI(t, "sub", "-p", strconv.Itoa(port), "-t", "ward/1/hr", "-q", "1", "--repeat", "2", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q", out)
	}
	for i, l := range lines {
		var m subMessage
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m.Topic != "ward/1/hr" || m.TopicID != 5 || m.QoS != 1 || m.Payload != strconv.Itoa(71+i) {
			t.Fatalf("line %d: %+v", i, m)
		}
	}
}

func TestPubBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"pub", "-q", "3", "-t", "a"},
		{"pub", "--topic-type", "short", "-t", "abc"},
		{"pub", "--topic-type", "predefined"},
		{"pub", "--topic-type", "weird", "-t", "a"},
		{"sub", "-q", "-1", "-t", "ab", "--topic-type", "short", "-p", "1"},
	} {
		app := newApp()
		app.Writer = &bytes.Buffer{}
		if err := app.Run(append([]string{"lsmqtt"}, args...)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
