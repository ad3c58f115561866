package client

import (
	"context"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// UpdateWillTopic changes the will topic stored at the gateway
// (WILLTOPICUPD/WILLTOPICRESP, §5.4.22, §5.4.24). An empty topic deletes the
// will topic and message.
func (c *Client) UpdateWillTopic(ctx context.Context, topic string, qos mqttsn.QoS, retain bool) error {
	m := &mqttsn.WillTopicUpd{}
	if topic != "" {
		m = &mqttsn.WillTopicUpd{QoS: qos, Retain: retain, Topic: []byte(topic)}
	}
	return c.willUpdate(ctx, m, mqttsn.TypeWillTopicResp)
}

// UpdateWillMessage changes the will message stored at the gateway
// (WILLMSGUPD/WILLMSGRESP, §5.4.23, §5.4.25).
func (c *Client) UpdateWillMessage(ctx context.Context, msg []byte) error {
	return c.willUpdate(ctx, &mqttsn.WillMsgUpd{Msg: msg}, mqttsn.TypeWillMsgResp)
}

func (c *Client) willUpdate(ctx context.Context, m mqttsn.Message, resp mqttsn.MsgType) error {
	if c.State() != StateActive {
		return ErrNotConnected
	}
	if err := c.acquire(ctx, c.willSem); err != nil {
		return err
	}
	defer release(c.willSem)
	r, err := c.transact(ctx, m, expect(resp, -1), txOpts{lostOnTimeout: true})
	if err != nil {
		return err
	}
	switch a := r.m.(type) {
	case *mqttsn.WillTopicResp:
		return a.ReturnCode.Err()
	case *mqttsn.WillMsgResp:
		return a.ReturnCode.Err()
	}
	return nil
}
