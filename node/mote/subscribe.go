package mote

import (
	"context"
	"errors"
	"strings"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// ParseTopic splits a mote topic ward/<area>/patient/<patient>/<kind>.
func ParseTopic(topic string) (area, patient, kind string, ok bool) {
	s := strings.Split(topic, "/")
	if len(s) != 5 || s[0] != "ward" || s[2] != "patient" || s[1] == "" || s[3] == "" || s[4] == "" {
		return "", "", "", false
	}
	return s[1], s[3], s[4], true
}

// Received is one message a subscribing mote got, opened.
type Received struct {
	Topic   string
	QoS     mqttsn.QoS
	Payload []byte          // the plaintext (the raw payload under ProtectNone)
	Header  envelope.Header // of the envelope, when opened
	Err     error           // why the envelope could not be opened
}

// ErrNoReader is the Received.Err of an envelope a mote without
// Config.ReaderCreds cannot open.
var ErrNoReader = errors.New("mote: no reader credentials to open envelopes")

// Subscribe subscribes the mote to filter at qos (MQTT-SN v1.2 §6.9); every
// message is opened (a subscribing mote decrypts: Meter.Crypto Open) and
// handed to h, on the client's callback goroutine. Under ProtectTS the keys
// are fetched from the TS through the gateway with Config.ReaderCreds, a
// caregiver principal granted the publishers' groups. The mote must be
// connected.
func (m *Mote) Subscribe(ctx context.Context, filter string, qos mqttsn.QoS, h func(Received)) error {
	c := m.client()
	if c == nil {
		return client.ErrNotConnected
	}
	m.mu.Lock()
	m.onRecv = h
	m.mu.Unlock()
	_, err := c.Subscribe(ctx, client.Named(filter), qos)
	return err
}

// onPublish opens a message from the gateway for the subscription handler.
func (m *Mote) onPublish(msg client.Message) {
	m.mu.Lock()
	h := m.onRecv
	m.mu.Unlock()
	if h == nil {
		return
	}
	r := Received{Topic: msg.Topic, QoS: msg.QoS}
	switch {
	case m.cfg.Protection == ProtectNone:
		r.Payload = msg.Data
	case m.reader == nil:
		r.Err = ErrNoReader
	default:
		_, patient, _, _ := ParseTopic(msg.Topic)
		pt, hdr, err := m.reader.Open(context.Background(), patient, msg.Topic, nil, msg.Data)
		r.Payload, r.Header, r.Err = pt, hdr, err
		if hdr.Version != 0 { // parsed: the mote ran the cipher
			if as, err := aead.ByID(aead.ID(hdr.Suite), aead.Options{AllowInsecure: true}); err == nil {
				if es, err := energy.ParseSuite(as.Name()); err == nil {
					n := len(msg.Data) - envelope.HeaderLen - as.TagSize()
					_, _ = m.meter.Crypto(es, energy.Open, max(n, 0), envelope.HeaderLen+len(msg.Topic))
				}
			}
		}
	}
	m.mu.Lock()
	m.stats.Received++
	if r.Err != nil {
		m.stats.ReceiveFailures++
	}
	m.mu.Unlock()
	h(r)
}

func (m *Mote) newReader(creds *tsclient.Credentials) (*tsclient.Reader, error) {
	return tsclient.NewReader(tsclient.ReaderConfig{Creds: creds, Exchanger: m.x,
		AllowInsecure: m.suite.Insecure(), Clock: m.clk, Logger: m.cfg.Logger})
}
