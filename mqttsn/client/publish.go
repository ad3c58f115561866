package client

import (
	"context"
	"errors"
	"net"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Register asks the gateway for the topic id of a topic name (§6.5) and
// remembers it for Publish.
func (c *Client) Register(ctx context.Context, name string) (uint16, error) {
	if c.State() != StateActive {
		return 0, ErrNotConnected
	}
	if err := c.acquire(ctx, c.regSem); err != nil {
		return 0, err
	}
	defer release(c.regSem)
	id := c.nextMsgID()
	remember := func(m mqttsn.Message) {
		if ack := m.(*mqttsn.Regack); ack.ReturnCode == mqttsn.Accepted {
			c.topicByName[name] = ack.TopicID
			c.topicByID[ack.TopicID] = name
		}
	}
	r, err := c.transact(ctx, &mqttsn.Register{MsgID: id, TopicName: []byte(name)},
		expect(mqttsn.TypeRegack, int(id)), txOpts{lostOnTimeout: true, onAnswer: remember})
	if err != nil {
		return 0, err
	}
	ack := r.m.(*mqttsn.Regack)
	if err := ack.ReturnCode.Err(); err != nil {
		return 0, err
	}
	return ack.TopicID, nil
}

// resolve returns the TopicIdType and TopicId field values for t,
// registering a normal topic name first when needed.
func (c *Client) resolve(ctx context.Context, t Topic) (mqttsn.TopicIDType, uint16, error) {
	switch t.Type {
	case mqttsn.TopicIDShort:
		id, ok := mqttsn.ShortTopicID(t.Name)
		if !ok {
			return 0, 0, ErrTopic
		}
		return t.Type, id, nil
	case mqttsn.TopicIDPredefined:
		if t.ID == 0 && t.Name != "" {
			id, ok := c.cfg.PredefinedTopics[t.Name]
			if !ok {
				return 0, 0, ErrTopic
			}
			return t.Type, id, nil
		}
		return t.Type, t.ID, nil
	case mqttsn.TopicIDNormal:
		if t.Name == "" {
			return t.Type, t.ID, nil
		}
		c.mu.Lock()
		id, ok := c.topicByName[t.Name]
		c.mu.Unlock()
		if ok {
			return t.Type, id, nil
		}
		id, err := c.Register(ctx, t.Name)
		return t.Type, id, err
	}
	return 0, 0, ErrTopic
}

// Publish sends data to topic with QoS -1, 0, 1 or 2 (§6.6, §6.8). It
// returns when the gateway acknowledged it (QoS 1: PUBACK; QoS 2: PUBCOMP),
// or once sent (QoS 0, -1). A rejection comes back as an mqttsn.ReturnCode
// error; "invalid topic ID" also forgets the registration, so the next
// Publish registers again. QoS -1 needs no connection but a pre-defined or
// short topic.
func (c *Client) Publish(ctx context.Context, topic Topic, qos mqttsn.QoS, retain bool, data []byte) error {
	if qos == mqttsn.QoSMinus1 {
		if topic.Type == mqttsn.TopicIDNormal {
			return ErrTopic // §6.8
		}
		tt, id, err := c.resolve(ctx, topic)
		if err != nil {
			return err
		}
		return c.send(&mqttsn.Publish{QoS: qos, Retain: retain, TopicIDType: tt, TopicID: id, Data: data})
	}
	if !qos.Valid() {
		return ErrTopic
	}
	if c.State() != StateActive {
		return ErrNotConnected
	}
	tt, id, err := c.resolve(ctx, topic)
	if err != nil {
		return err
	}
	p := &mqttsn.Publish{QoS: qos, Retain: retain, TopicIDType: tt, TopicID: id, Data: data}
	if qos == mqttsn.QoS0 {
		return c.send(p)
	}
	if err := c.acquire(ctx, c.pubSem); err != nil {
		return err
	}
	defer release(c.pubSem)
	p.MsgID = c.nextMsgID()
	want := p.MsgID
	// QoS 1 waits for PUBACK; QoS 2 for PUBREC, or a PUBACK that rejects it (§5.4.13).
	r, err := c.transact(ctx, p, func(m mqttsn.Message, _ net.Addr) bool {
		switch m := m.(type) {
		case *mqttsn.Puback:
			return m.MsgID == want
		case *mqttsn.Pubrec:
			return qos == mqttsn.QoS2 && m.MsgID == want
		}
		return false
	}, txOpts{lostOnTimeout: true})
	if err != nil {
		return err
	}
	if ack, ok := r.m.(*mqttsn.Puback); ok {
		if ack.ReturnCode == mqttsn.RejectedInvalidTopicID && tt == mqttsn.TopicIDNormal {
			c.forgetTopic(id)
		}
		if err := ack.ReturnCode.Err(); err != nil {
			return err
		}
		if qos == mqttsn.QoS2 {
			return errors.New("mqttsn client: PUBACK accepted a QoS 2 PUBLISH")
		}
		return nil
	}
	_, err = c.transact(ctx, &mqttsn.Pubrel{MsgID: want}, expect(mqttsn.TypePubcomp, int(want)), txOpts{lostOnTimeout: true})
	return err
}

func (c *Client) forgetTopic(id uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if name, ok := c.topicByID[id]; ok {
		delete(c.topicByName, name)
		delete(c.topicByID, id)
	}
}

// onPublish handles a PUBLISH from the gateway (§6.10): acknowledge by QoS,
// deliver once, answer an unknown normal topic id with "invalid topic ID".
func (c *Client) onPublish(p *mqttsn.Publish) {
	msg := Message{TopicID: p.TopicID, TopicIDType: p.TopicIDType, QoS: p.QoS, Retain: p.Retain,
		DUP: p.DUP, MsgID: p.MsgID, Data: p.Data}
	c.mu.Lock()
	switch p.TopicIDType {
	case mqttsn.TopicIDNormal:
		name, ok := c.topicByID[p.TopicID]
		if !ok {
			c.mu.Unlock()
			c.stats.ignored.Add(1)
			c.reply(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID, ReturnCode: mqttsn.RejectedInvalidTopicID})
			return
		}
		msg.Topic = name
	case mqttsn.TopicIDShort:
		msg.Topic = mqttsn.ShortTopicName(p.TopicID)
	case mqttsn.TopicIDPredefined:
		for name, id := range c.cfg.PredefinedTopics {
			if id == p.TopicID {
				msg.Topic = name
				break
			}
		}
	}
	dup := false
	switch p.QoS {
	case mqttsn.QoS1:
		if p.DUP {
			for i := 0; i < c.recentN; i++ {
				if c.recentQoS1[i] == p.MsgID {
					dup = true
					break
				}
			}
		}
		if !dup {
			c.recentQoS1[c.recentPos] = p.MsgID
			c.recentPos = (c.recentPos + 1) % len(c.recentQoS1)
			if c.recentN < len(c.recentQoS1) {
				c.recentN++
			}
		}
	case mqttsn.QoS2:
		_, dup = c.qos2In[p.MsgID]
		c.qos2In[p.MsgID] = struct{}{}
	}
	c.mu.Unlock()
	if dup {
		c.stats.duplicates.Add(1)
	} else if f := c.cfg.OnPublish; f != nil {
		c.queue.push(func() { f(msg) })
	}
	switch p.QoS {
	case mqttsn.QoS1:
		c.reply(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID, ReturnCode: mqttsn.Accepted})
	case mqttsn.QoS2:
		c.reply(&mqttsn.Pubrec{MsgID: p.MsgID})
	}
}
