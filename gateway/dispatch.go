package gateway

import (
	"errors"
	"net"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// handleDatagram is the entry point of every datagram read. b is the read
// buffer: nothing may keep it after return (decoded fields alias it and are
// copied where they must outlive it). addr is nil for UDP senders.
func (g *Gateway) handleDatagram(b []byte, key peerKey, addr net.Addr) {
	if len(b) > g.cfg.MaxDatagram {
		g.dropf(dropOversize, key, "datagram longer than MaxDatagram", "len", len(b))
		return
	}
	if g.ho != nil && g.ho.nHolding.Load() > 0 && g.ho.hold(b, key) {
		return // the sender's session is being resumed (handover_visited.go)
	}
	h, err := mqttsn.ReadHeader(b)
	if err != nil {
		g.dropErr(key, err)
		return
	}
	if h.Type == mqttsn.TypeEncapsulated {
		// MQTT-SN v1.2 §5.5: a forwarder's frame; the client is identified by
		// the forwarder's address and the Wireless Node Id.
		var e mqttsn.Encapsulated
		off, err := e.DecodeHeader(b)
		if err != nil {
			g.dropErr(key, err)
			return
		}
		g.m.countIn(byte(mqttsn.TypeEncapsulated), 0)
		inner := b[off:]
		ih, err := mqttsn.ReadHeader(inner)
		if err != nil {
			g.dropErr(key, err)
			return
		}
		if ih.Type == mqttsn.TypeEncapsulated {
			g.dropf(dropNestedEncapsulation, key, "encapsulated message inside another")
			return
		}
		key.node = string(e.NodeID)
		g.handleMessage(inner, ih, key, addr)
		return
	}
	g.handleMessage(b, h, key, addr)
}

// handleMessage decodes one message and hands it to its handler. The typed
// decoders allocate nothing; the messages live on this stack frame.
func (g *Gateway) handleMessage(b []byte, h mqttsn.Header, key peerKey, addr net.Addr) {
	if h.Length != len(b) {
		g.dropErr(key, &mqttsn.ParseError{Type: h.Type, Field: "Length", Err: mqttsn.ErrTrailing})
		return
	}
	in := inbound{key: key, addr: addr}
	t := h.Type
	var err error
	switch t {
	case mqttsn.TypePublish:
		var m mqttsn.Publish
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), byte(m.QoS)&3)
			g.onPublish(&in, &m)
			return
		}
	case mqttsn.TypeConnect:
		var m mqttsn.Connect
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onConnect(&in, &m)
			return
		}
		if errors.Is(err, mqttsn.ErrProtocolID) || errors.Is(err, mqttsn.ErrClientID) {
			// §6.2: a CONNECT the gateway cannot accept gets CONNACK with the
			// rejection reason.
			g.dropErr(key, err)
			g.reply(&in, &mqttsn.Connack{ReturnCode: mqttsn.RejectedNotSupported})
			return
		}
	case mqttsn.TypeWillTopic:
		var m mqttsn.WillTopic
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onWillTopic(&in, &m)
			return
		}
	case mqttsn.TypeWillMsg:
		var m mqttsn.WillMsg
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onWillMsg(&in, &m)
			return
		}
	case mqttsn.TypeRegister:
		var m mqttsn.Register
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onRegister(&in, &m)
			return
		}
	case mqttsn.TypeRegack:
		var m mqttsn.Regack
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onRegack(&in, &m)
			return
		}
	case mqttsn.TypePuback:
		var m mqttsn.Puback
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onPuback(&in, &m)
			return
		}
	case mqttsn.TypePubrec:
		var m mqttsn.Pubrec
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onPubrec(&in, m.MsgID)
			return
		}
	case mqttsn.TypePubrel:
		var m mqttsn.Pubrel
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onPubrel(&in, m.MsgID)
			return
		}
	case mqttsn.TypePubcomp:
		var m mqttsn.Pubcomp
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onPubcomp(&in, m.MsgID)
			return
		}
	case mqttsn.TypeSubscribe:
		var m mqttsn.Subscribe
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onSubscribe(&in, &m)
			return
		}
	case mqttsn.TypeUnsubscribe:
		var m mqttsn.Unsubscribe
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onUnsubscribe(&in, &m)
			return
		}
	case mqttsn.TypePingreq:
		var m mqttsn.Pingreq
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onPingreq(&in, &m)
			return
		}
	case mqttsn.TypePingresp:
		var m mqttsn.Pingresp
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onPingresp(&in)
			return
		}
	case mqttsn.TypeDisconnect:
		var m mqttsn.Disconnect
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onDisconnect(&in, &m)
			return
		}
	case mqttsn.TypeWillTopicUpd:
		var m mqttsn.WillTopicUpd
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onWillTopicUpd(&in, &m)
			return
		}
	case mqttsn.TypeWillMsgUpd:
		var m mqttsn.WillMsgUpd
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onWillMsgUpd(&in, &m)
			return
		}
	case mqttsn.TypeSearchGW:
		var m mqttsn.SearchGW
		if _, err = m.Decode(b); err == nil {
			g.m.countIn(byte(t), 0)
			g.onSearchGW(&in, &m)
			return
		}
	case mqttsn.TypeAdvertise, mqttsn.TypeGWInfo, mqttsn.TypeConnack, mqttsn.TypeWillTopicReq,
		mqttsn.TypeWillMsgReq, mqttsn.TypeSuback, mqttsn.TypeUnsuback, mqttsn.TypeWillTopicResp,
		mqttsn.TypeWillMsgResp:
		// Sent by gateways (or, GWINFO, by clients answering a SEARCHGW):
		// nothing for this gateway to do.
		g.m.countIn(byte(t), 0)
		g.dropf(dropNotForGateway, key, "message only a gateway sends", "type", t)
		return
	default:
		if isExtensionType(byte(t)) {
			g.m.countIn(byte(t), 0)
			g.onExtension(&in, b, t)
			return
		}
		g.m.countIn(byte(t), 0)
		g.dropf(dropUnknownType, key, "reserved message type", "type", t)
		return
	}
	g.dropErr(key, err)
}

// inbound is the sender of the message being handled.
type inbound struct {
	key  peerKey
	addr net.Addr // nil for UDP senders
	p    *peer    // built on demand by peer()
}

// peer returns a peer for answering the sender; the first call allocates.
func (in *inbound) peer() *peer {
	if in.p == nil {
		in.p = newPeer(in.key, in.addr)
	}
	return in.p
}

// dropErr counts and logs a datagram the codec rejected.
func (g *Gateway) dropErr(key peerKey, err error) {
	g.m.drop(dropMalformed)
	if g.log.Enabled(g.ctx, levelDebug) {
		g.log.Debug("drop", "reason", dropMalformed.String(), "from", key.String(), "err", err)
	}
}

// dropf counts and logs a drop.
func (g *Gateway) dropf(r dropReason, key peerKey, msg string, args ...any) {
	g.m.drop(r)
	if g.log.Enabled(g.ctx, levelDebug) {
		g.log.Debug("drop: "+msg, append([]any{"reason", r.String(), "from", key.String()}, args...)...)
	}
}

// String formats the key for logs.
func (k peerKey) String() string {
	s := k.addr
	if k.ap.IsValid() {
		s = k.ap.String()
	}
	if k.node != "" {
		s += "/node=" + hexString(k.node)
	}
	return s
}

func hexString(s string) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, digits[s[i]>>4], digits[s[i]&15])
	}
	return string(b)
}
