package client

import (
	"context"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Subscription is the gateway's answer to SUBSCRIBE.
type Subscription struct {
	QoS     mqttsn.QoS // granted
	TopicID uint16     // 0 for wildcard and short-name subscriptions (§6.9)
}

// Subscribe subscribes to a topic name (wildcards allowed), a pre-defined
// topic id or a short topic name with the requested QoS (§6.9). Incoming
// messages reach Config.OnPublish. A rejection is an mqttsn.ReturnCode error.
func (c *Client) Subscribe(ctx context.Context, t Topic, qos mqttsn.QoS) (Subscription, error) {
	if c.State() != StateActive {
		return Subscription{}, ErrNotConnected
	}
	s := &mqttsn.Subscribe{QoS: qos, TopicIDType: t.Type}
	if err := c.topicFields(t, &s.TopicName, &s.TopicID); err != nil {
		return Subscription{}, err
	}
	if err := c.acquire(ctx, c.subSem); err != nil {
		return Subscription{}, err
	}
	defer release(c.subSem)
	s.MsgID = c.nextMsgID()
	// The gateway may publish right after SUBACK: learn the id on the reader.
	remember := func(m mqttsn.Message) {
		ack := m.(*mqttsn.Suback)
		if ack.ReturnCode == mqttsn.Accepted && t.Type == mqttsn.TopicIDNormal && ack.TopicID != 0 && !isWildcard(t.Name) {
			c.topicByID[ack.TopicID] = t.Name
			c.topicByName[t.Name] = ack.TopicID
		}
	}
	r, err := c.transact(ctx, s, expect(mqttsn.TypeSuback, int(s.MsgID)), txOpts{lostOnTimeout: true, onAnswer: remember})
	if err != nil {
		return Subscription{}, err
	}
	ack := r.m.(*mqttsn.Suback)
	if err := ack.ReturnCode.Err(); err != nil {
		return Subscription{}, err
	}
	return Subscription{QoS: ack.QoS, TopicID: ack.TopicID}, nil
}

// Unsubscribe ends a subscription (§6.9).
func (c *Client) Unsubscribe(ctx context.Context, t Topic) error {
	if c.State() != StateActive {
		return ErrNotConnected
	}
	u := &mqttsn.Unsubscribe{TopicIDType: t.Type}
	if err := c.topicFields(t, &u.TopicName, &u.TopicID); err != nil {
		return err
	}
	if err := c.acquire(ctx, c.subSem); err != nil {
		return err
	}
	defer release(c.subSem)
	u.MsgID = c.nextMsgID()
	_, err := c.transact(ctx, u, expect(mqttsn.TypeUnsuback, int(u.MsgID)), txOpts{lostOnTimeout: true})
	return err
}

// topicFields fills the TopicName or TopicId of SUBSCRIBE/UNSUBSCRIBE.
func (c *Client) topicFields(t Topic, name *[]byte, id *uint16) error {
	switch t.Type {
	case mqttsn.TopicIDNormal:
		if t.Name == "" {
			return ErrTopic
		}
		*name = []byte(t.Name)
	case mqttsn.TopicIDShort:
		v, ok := mqttsn.ShortTopicID(t.Name)
		if !ok {
			return ErrTopic
		}
		*id = v
	case mqttsn.TopicIDPredefined:
		v := t.ID
		if v == 0 && t.Name != "" {
			var ok bool
			if v, ok = c.cfg.PredefinedTopics[t.Name]; !ok {
				return ErrTopic
			}
		}
		*id = v
	default:
		return ErrTopic
	}
	return nil
}

func isWildcard(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] == '+' || name[i] == '#' {
			return true
		}
	}
	return false
}
