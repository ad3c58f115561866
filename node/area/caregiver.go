package area

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Message is one publish a Caregiver received from the broker.
type Message struct {
	Topic    string
	QoS      byte
	Envelope []byte // the payload as the broker carried it
}

// Group returns the patient segment of a mote topic
// (ward/<area>/patient/<group>/<kind>), or "".
func Group(topic string) string {
	s := strings.Split(topic, "/")
	if len(s) != 5 || s[0] != "ward" || s[2] != "patient" {
		return ""
	}
	return s[3]
}

// Caregiver is a subscriber on the area's broker (an ordinary MQTT
// subscriber, in process) that opens envelopes with keys fetched from the
// area's Trusted System, as a granted caregiver.
type Caregiver struct {
	a       *Area
	id      int
	filter  string
	ch      chan Message
	dropped atomic.Uint64
	reader  *tsclient.Reader
}

// NewCaregiver registers a caregiver called name in the area's TS, grants it
// groups, and subscribes it to filter. Without a TS it only subscribes
// (Open then fails).
func (a *Area) NewCaregiver(name, filter string, groups ...string) (*Caregiver, error) {
	c := &Caregiver{a: a, filter: filter, ch: make(chan Message, 4096)}
	if a.Registry != nil {
		p, err := a.Registry.RegisterCaregiver(name)
		if err != nil {
			return nil, err
		}
		creds := &tsclient.Credentials{Name: p.Name, Kind: string(p.Kind), PSS: append([]byte(nil), p.PSS...)}
		p.Wipe()
		for _, g := range groups {
			if err := a.Registry.Grant(name, g); err != nil {
				return nil, err
			}
		}
		c.reader, err = tsclient.NewReader(tsclient.ReaderConfig{Creds: creds, Exchanger: LocalExchanger{a.TS},
			AllowInsecure: a.cfg.AllowInsecure, Clock: a.Clock, Logger: a.cfg.Logger})
		creds.Wipe()
		if err != nil {
			return nil, err
		}
	}
	a.subMu.Lock()
	a.subID++
	c.id = a.subID
	a.subMu.Unlock()
	a.Broker.Server().Topics.InlineSubscribe(mqtt.InlineSubscription{
		Subscription: packets.Subscription{Filter: filter, Identifier: c.id, Qos: 1},
		Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
			m := Message{Topic: pk.TopicName, QoS: pk.FixedHeader.Qos, Envelope: append([]byte(nil), pk.Payload...)}
			select {
			case c.ch <- m:
			default:
				c.dropped.Add(1)
			}
		},
	})
	return c, nil
}

// Messages is the channel of received publishes.
func (c *Caregiver) Messages() <-chan Message { return c.ch }

// Dropped counts publishes lost because Messages was not read.
func (c *Caregiver) Dropped() uint64 { return c.dropped.Load() }

// Open opens a received envelope and returns the plaintext and its header.
func (c *Caregiver) Open(ctx context.Context, m Message) ([]byte, envelope.Header, error) {
	if c.reader == nil {
		return nil, envelope.Header{}, errors.New("area: caregiver without a Trusted System")
	}
	return c.reader.Open(ctx, Group(m.Topic), m.Topic, nil, m.Envelope)
}

// Stats returns the caregiver's envelope counters.
func (c *Caregiver) Stats() envelope.Stats {
	if c.reader == nil {
		return envelope.Stats{}
	}
	return c.reader.Stats()
}

// Close unsubscribes and wipes the caregiver's keys.
func (c *Caregiver) Close() {
	c.a.Broker.Server().Topics.InlineUnsubscribe(c.id, c.filter)
	if c.reader != nil {
		c.reader.Close()
	}
}
