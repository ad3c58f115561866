package hospital

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// hoNode is a patient's node in handover mode: the same sensors, envelope
// and energy accounting as a node/mote, on a gateway/handoverclient Node
// that resumes its session at the next ward's gateway (HO-RESUME) instead
// of connecting afresh. node/mote cannot carry the handover client, so this
// is a second, smaller mote: what it charges to its meter is listed on
// chargeFrames and in publish.
type hoNode struct {
	p      *patient
	air    *airConn     // UDP transport
	st     *stack.Stack // mesh transport
	conn   net.PacketConn
	meter  *energy.Meter
	node   *handoverclient.Node
	sess   *tsclient.Session
	es     energy.Suite
	sens   *sensors.Patient
	mon    *sensors.Monitor
	topics [2]string
	start  time.Time

	// connected is false until a full connect or a move succeeded, and
	// after one failed: the next publish connects first (as a mote does).
	connected bool

	mu      sync.Mutex
	lastAdv time.Time
	stats   hoStats
}

type hoStats struct {
	Published, Failures, KeyRequests, Connects uint64
}

func newHONode(ctx context.Context, p *patient, gw net.Addr) (*hoNode, error) {
	s, sc := p.s, p.s.sc
	h := &hoNode{p: p, meter: energy.NewMeter(s.prof), start: s.clk.Now()}
	h.lastAdv = h.start
	var pc net.PacketConn
	if s.med != nil {
		// On the mesh: the node's own stack on a radio at the patient's
		// bed, every frame it sends or hears charged to its meter.
		mac := patientMAC(p.idx)
		port, err := s.med.Attach(ieee802154.Ext(mac), uint16(p.idx+1))
		if err != nil {
			return nil, err
		}
		s.med.SetPosition(ieee802154.Ext(mac), p.legs[p.legNo].Bed.position())
		if h.st, err = stack.New(stack.Config{Addr: mac, Radio: port, Clock: s.clk,
			Seed: sc.Seed*1_000_003 + uint64(p.idx)*7919 + 1, OnFrame: h.chargeFrame,
			Logger: s.cfg.Logger.With("patient", p.group)}); err != nil {
			port.Close()
			return nil, err
		}
		if pc, err = h.st.ListenUDP(0); err != nil {
			h.st.Close()
			return nil, err
		}
		h.conn = pc
	} else {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		h.air = newAirConn(pc, sc.Loss, sc.Seed*1_000_003+uint64(p.idx)*7919+1)
		h.air.activity = &s.activity
		h.air.onFrames = h.chargeFrames
		h.conn = h.air
	}
	suite, err := aead.Lookup(sc.Suite, aead.Options{AllowInsecure: true})
	if err != nil {
		pc.Close()
		return nil, err
	}
	if h.es, err = energy.ParseSuite(suite.Name()); err != nil {
		pc.Close()
		return nil, err
	}
	eps, err := sensors.Scenario(sc.Scenarios[p.idx%len(sc.Scenarios)], sc.Seed*7919+uint64(p.idx))
	if err != nil {
		pc.Close()
		return nil, err
	}
	h.sens = sensors.New(sensors.Config{Seed: sc.Seed*7919 + uint64(p.idx), Episodes: eps})
	h.mon = sensors.NewMonitor(*sc.Alarms.thresholds())
	home := sc.Areas[p.legs[0].Area]
	h.topics = [2]string{mote.Topic(home, p.group, mote.KindVitals), mote.Topic(home, p.group, mote.KindAlarm)}
	h.node = handoverclient.New(h.conn, gw, handoverclient.Config{
		Client: client.Config{ClientID: p.creds.Name, KeepAlive: 10 * time.Minute, CleanSession: true,
			Clock: s.clk, Logger: s.cfg.Logger},
		Prove: h.prove,
		// Publishes wait for HO-RESUMED: a publish sent right behind
		// HO-RESUME is held by the visited gateway and released on a
		// goroutine of its own, whose timing the virtual clock cannot
		// see (the same seed would not give the same run on the mesh).
		WaitForResumed: true,
		Topics:         h.topics[:],
	})
	if h.sess, err = tsclient.NewSession(tsclient.SessionConfig{Creds: p.creds, Exchanger: h, Suite: suite,
		AllowInsecure: suite.Insecure(), Clock: s.clk}); err != nil {
		h.node.Close()
		pc.Close()
		return nil, err
	}
	return h, nil
}

// chargeFrames charges the estimated frames of one datagram to the meter:
// each data frame and its link-layer acknowledgement (5 octets), one CCA
// before each data frame, and the stack's CPU work per frame.
func (h *hoNode) chargeFrames(frames []int, sent bool) {
	for _, f := range frames {
		if sent {
			_ = h.meter.TX(f)
			_ = h.meter.RX(5)
		} else {
			_ = h.meter.RX(f)
			_ = h.meter.TX(5)
		}
	}
}

// chargeFrame charges one frame the node's stack sent or heard (mesh):
// acknowledgements are frames of their own there, and overheard frames are
// charged as received (a radio listening whenever it is not sending, as a
// node/mote by default).
func (h *hoNode) chargeFrame(d stack.Dir, n int) {
	if d == stack.Tx {
		_ = h.meter.TX(n)
	} else {
		_ = h.meter.RX(n)
	}
}

func (h *hoNode) prove(ch *mqttsn.TSChallenge) (*mqttsn.TSProof, error) {
	_, _ = h.meter.Crypto(energy.NoSuite, energy.KDF, 0, 0)
	_, _ = h.meter.Crypto(energy.NoSuite, energy.Hash, 64+ch.Len(), 0)
	_, _ = h.meter.Crypto(energy.NoSuite, energy.Hash, 64+32, 0)
	return tsclient.Prove(h.p.creds, ch)
}

// ExchangeKey carries TS-KEYREQ through the current gateway's relay
// (tsclient.KeyExchanger), charging the request MAC and the key unwrap.
func (h *hoNode) ExchangeKey(ctx context.Context, req *mqttsn.TSKeyRequest, accept func(*mqttsn.TSKeyResponse) (bool, error)) error {
	h.mu.Lock()
	h.stats.KeyRequests++
	h.mu.Unlock()
	_, _ = h.meter.Crypto(energy.NoSuite, energy.KDF, 0, 0)
	_, _ = h.meter.Crypto(energy.NoSuite, energy.Hash, 64+req.Len(), 0)
	_, _ = h.meter.Crypto(energy.NoSuite, energy.Hash, 64+32, 0)
	var aerr error
	_, err := h.node.Client().Request(ctx, req, func(m mqttsn.Message) bool {
		r, ok := m.(*mqttsn.TSKeyResponse)
		if !ok || !bytes.Equal(r.ReqNonce, req.Nonce) {
			return false
		}
		_, _ = h.meter.Crypto(energy.NoSuite, energy.KDF, 0, 0)
		_, _ = h.meter.Crypto(energy.Ascon128, energy.Open, len(r.Sealed), r.Len()-len(r.Sealed))
		done, err := accept(r)
		if done {
			aerr = err
		}
		return done
	})
	if errors.Is(err, client.ErrTimeout) {
		return fmt.Errorf("%w: %w", tsclient.ErrTimeout, err)
	}
	if err != nil {
		return err
	}
	return aerr
}

func (h *hoNode) connect(ctx context.Context) error {
	err := h.node.Connect(ctx)
	h.connected = err == nil
	if err == nil {
		h.mu.Lock()
		h.stats.Connects++
		h.mu.Unlock()
	}
	return err
}

// publish samples both vital-sign sensors, publishes the alarms that
// changed at QoS 1, then the vitals record at the scenario's QoS.
func (h *hoNode) publish(ctx context.Context) {
	if !h.connected {
		if err := h.connect(ctx); err != nil {
			h.mu.Lock()
			h.stats.Failures++
			h.mu.Unlock()
			return
		}
	}
	now := h.p.s.clk.Since(h.start)
	_ = h.meter.Sample(sensors.PulseOximeter)
	_ = h.meter.Sample(sensors.Thermometer)
	v := h.sens.Vitals(now)
	qos := mqttsn.QoS(*h.p.s.sc.QoS)
	for _, a := range h.mon.Check(nil, v) {
		h.send(ctx, h.topics[1], max(qos, 1), mote.AppendAlarm(nil, a, v, h.mon.Flags()))
	}
	h.p.lastSent.Store(h.p.s.clk.Now().UnixNano())
	h.p.sentWall.Store(time.Now().UnixNano())
	h.p.inflight.Store(qos > 0)
	if !h.send(ctx, h.topics[0], qos, v.AppendBinary(nil, h.mon.Flags())) {
		h.p.inflight.Store(false)
	}
}

func (h *hoNode) send(ctx context.Context, topic string, qos mqttsn.QoS, pt []byte) bool {
	env, err := h.sess.Seal(ctx, nil, topic, pt)
	if err == nil {
		_, _ = h.meter.Crypto(h.es, energy.Seal, len(pt), envelope.HeaderLen+len(topic))
		err = h.node.Publish(ctx, topic, qos, false, env)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.stats.Failures++
		return false
	}
	h.stats.Published++
	return true
}

// snapshot brings the meter up to the clock, but not past the scenario's
// end, and returns its accounting. The drain after the end (waiting for
// replies in flight) takes a scheduler-dependent amount of virtual time;
// charging its idle floor would make the same seed give different energy.
func (h *hoNode) snapshot() energy.Snapshot {
	h.mu.Lock()
	now := h.p.s.clk.Now()
	if end := h.p.s.start.Add(h.p.s.sc.Duration.Duration); now.After(end) {
		now = end
	}
	if d := now.Sub(h.lastAdv); d > 0 {
		h.meter.Advance(d)
		h.lastAdv = now
	}
	h.mu.Unlock()
	return h.meter.Snapshot()
}

func (h *hoNode) close() {
	h.node.Close()
	h.sess.Close()
	if h.air != nil {
		h.air.PacketConn.Close()
	}
	if h.st != nil {
		h.conn.Close()
		h.st.Close()
	}
}
