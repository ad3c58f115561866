package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// subscriber counts end-to-end deliveries into a deliveries tracker.
type subscriber interface {
	Close() error
	String() string
}

// snSubscriber subscribes through the gateway over MQTT-SN (§6.9) and
// acknowledges what it receives: PUBACK for QoS 1, PUBREC/PUBCOMP for QoS 2
// (§6.10), REGACK for the gateway's REGISTERs (§6.5).
type snSubscriber struct {
	cfg  *Config
	conn *net.UDPConn
	bc   batchConn
	dl   *deliveries
	wg   sync.WaitGroup
	stop chan struct{}
	once sync.Once

	connack chan mqttsn.ReturnCode
	suback  chan mqttsn.Suback
	gwDisc  atomic.Int64
}

func startMQTTSNSubscriber(ctx context.Context, cfg *Config, gw *net.UDPAddr, dl *deliveries) (*snSubscriber, error) {
	conn, err := net.DialUDP("udp", nil, gw)
	if err != nil {
		return nil, fmt.Errorf("loadgen: subscriber socket: %w", err)
	}
	setBuffers(conn, 8*cfg.SockBuf, cfg.SockBuf)
	s := &snSubscriber{cfg: cfg, conn: conn, bc: newBatchConn(conn), dl: dl, stop: make(chan struct{}),
		connack: make(chan mqttsn.ReturnCode, 1), suback: make(chan mqttsn.Suback, 1)}
	s.wg.Go(s.readLoop)
	if err := s.handshake(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.wg.Go(s.keepAlive)
	return s, nil
}

func (s *snSubscriber) String() string { return "mqtt-sn " + s.conn.RemoteAddr().String() }

// request sends b until an answer arrives on ch.
func request[T any](ctx context.Context, s *snSubscriber, b []byte, ch <-chan T) (T, error) {
	var zero T
	for range s.cfg.MaxRetries + 1 {
		if _, err := s.conn.Write(b); err != nil {
			return zero, err
		}
		t := time.NewTimer(s.cfg.RetryTimeout)
		select {
		case v := <-ch:
			t.Stop()
			return v, nil
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return zero, ctx.Err()
		}
	}
	return zero, errors.New("no answer")
}

func (s *snSubscriber) handshake(ctx context.Context) error {
	cfg := s.cfg
	con := mqttsn.Connect{CleanSession: true, Duration: uint16(cfg.KeepAlive / time.Second), ClientID: []byte(cfg.ClientIDPrefix + "sub")}
	b, err := con.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("loadgen: subscriber CONNECT: %w", err)
	}
	rc, err := request(ctx, s, b, s.connack)
	if err == nil {
		err = rc.Err()
	}
	if err != nil {
		return fmt.Errorf("loadgen: subscriber CONNECT: %w", err)
	}
	sub := mqttsn.Subscribe{QoS: mqttsn.QoS(cfg.SubQoS), TopicIDType: cfg.TopicType, MsgID: 1}
	switch cfg.TopicType {
	case mqttsn.TopicIDNormal:
		sub.TopicName = []byte(cfg.subFilter())
	case mqttsn.TopicIDPredefined:
		sub.TopicID = cfg.TopicID
	case mqttsn.TopicIDShort:
		sub.TopicID, _ = mqttsn.ShortTopicID(cfg.Topic)
	}
	if b, err = sub.AppendBinary(nil); err != nil {
		return fmt.Errorf("loadgen: subscriber SUBSCRIBE: %w", err)
	}
	sa, err := request(ctx, s, b, s.suback)
	if err == nil {
		err = sa.ReturnCode.Err()
	}
	if err != nil {
		return fmt.Errorf("loadgen: subscriber SUBSCRIBE: %w", err)
	}
	return nil
}

// keepAlive sends PINGREQ at half the keep-alive period (§6.15).
func (s *snSubscriber) keepAlive() {
	t := time.NewTicker(s.cfg.KeepAlive / 2)
	defer t.Stop()
	ping := mqttsn.Pingreq{}
	b, _ := ping.AppendBinary(nil)
	for {
		select {
		case <-t.C:
			_, _ = s.conn.Write(b)
		case <-s.stop:
			return
		}
	}
}

func (s *snSubscriber) readLoop() {
	const batch = 64
	size := max(2048, s.cfg.DatagramSize()+64)
	in := make([]ipv4.Message, batch)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, size)}
	}
	out := make([]ipv4.Message, batch)
	obuf := make([][]byte, batch)
	for i := range out {
		obuf[i] = make([]byte, 0, 8)
		out[i].Buffers = [][]byte{nil}
	}
	for {
		n, err := s.bc.ReadBatch(in, 0)
		now := nowNano()
		k := 0
		for i := range n {
			if b := s.handle(in[i].Buffers[0][:in[i].N], now, obuf[k][:0]); len(b) > 0 {
				obuf[k] = b
				out[k].Buffers[0] = b
				k++
			}
		}
		if k > 0 {
			_, _ = s.bc.WriteBatch(out[:k], 0)
		}
		if err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// handle processes one datagram and appends the answer, if any, to ans.
func (s *snSubscriber) handle(b []byte, now int64, ans []byte) []byte {
	h, err := mqttsn.ReadHeader(b)
	if err != nil {
		return ans
	}
	switch h.Type {
	case mqttsn.TypePublish:
		var m mqttsn.Publish
		if _, err := m.Decode(b); err != nil {
			return ans
		}
		s.dl.deliver(m.Data, m.DUP, now)
		switch m.QoS {
		case mqttsn.QoS1:
			a := mqttsn.Puback{TopicID: m.TopicID, MsgID: m.MsgID, ReturnCode: mqttsn.Accepted}
			ans, _ = a.AppendBinary(ans)
		case mqttsn.QoS2:
			a := mqttsn.Pubrec{MsgID: m.MsgID}
			ans, _ = a.AppendBinary(ans)
		}
	case mqttsn.TypePubrel:
		var m mqttsn.Pubrel
		if _, err := m.Decode(b); err == nil {
			a := mqttsn.Pubcomp(m)
			ans, _ = a.AppendBinary(ans)
		}
	case mqttsn.TypeRegister:
		var m mqttsn.Register
		if _, err := m.Decode(b); err == nil {
			a := mqttsn.Regack{TopicID: m.TopicID, MsgID: m.MsgID, ReturnCode: mqttsn.Accepted}
			ans, _ = a.AppendBinary(ans)
		}
	case mqttsn.TypeConnack:
		var m mqttsn.Connack
		if _, err := m.Decode(b); err == nil {
			select {
			case s.connack <- m.ReturnCode:
			default:
			}
		}
	case mqttsn.TypeSuback:
		var m mqttsn.Suback
		if _, err := m.Decode(b); err == nil && m.MsgID == 1 {
			select {
			case s.suback <- m:
			default:
			}
		}
	case mqttsn.TypeDisconnect:
		s.gwDisc.Add(1)
	}
	return ans
}

// Close disconnects (§6.14) and stops the subscriber.
func (s *snSubscriber) Close() error {
	s.once.Do(func() {
		var m mqttsn.Disconnect
		b, _ := m.AppendBinary(nil)
		_, _ = s.conn.Write(b)
		close(s.stop)
		s.conn.Close()
		s.wg.Wait()
	})
	return nil
}
