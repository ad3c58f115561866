package gateway_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// hostileGW is a gateway on a virtual clock, an embedded broker and a
// loopback UDP socket.
type hostileGW struct {
	g   *gateway.Gateway
	v   *clock.Virtual
	reg *prometheus.Registry
	gw  *net.UDPAddr
	cfg gateway.Config
}

func newHostileGW(t *testing.T, tweak func(*gateway.Config)) *hostileGW {
	t.Helper()
	b, err := broker.NewEmbedded(broker.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	h := &hostileGW{v: clock.NewVirtual(time.Unix(1_700_000_000, 0)), reg: prometheus.NewRegistry()}
	h.cfg = gateway.Config{Clock: h.v, Registerer: h.reg, AdvertiseInterval: -1}
	if tweak != nil {
		tweak(&h.cfg)
	}
	if h.g, err = gateway.New(h.cfg, b); err != nil {
		t.Fatal(err)
	}
	b.SetDeliver(h.g.Deliver)
	h.gw = serveGateway(t, h.g)
	if h.cfg.RetryInterval == 0 {
		h.cfg.RetryInterval = 10 * time.Second
	}
	if h.cfg.MaxRetries == 0 {
		h.cfg.MaxRetries = 3
	}
	return h
}

// handled waits until the gateway has taken in (decoded or dropped) more
// than n datagrams in total.
func (h *hostileGW) handled(t *testing.T, n uint64) {
	t.Helper()
	deadline := time.Now().Add(relWait)
	for h.seen() <= n {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not take in datagram %d", n+1)
		}
		runtime.Gosched()
	}
}

func (h *hostileGW) seen() uint64 {
	st := h.g.Stats()
	n := st.MessagesIn
	for _, d := range st.Drops {
		n += d
	}
	return n
}

// peer is a raw UDP socket on 127.0.0.1 or another loopback address.
type peer struct {
	t  *testing.T
	pc net.PacketConn
	gw net.Addr
}

func newPeer(t *testing.T, gw net.Addr, ip string) *peer {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &peer{t: t, pc: pc, gw: gw}
}

func (p *peer) sendRaw(b []byte) int {
	p.t.Helper()
	if _, err := p.pc.WriteTo(b, p.gw); err != nil {
		p.t.Fatal(err)
	}
	return len(b)
}

func (p *peer) send(m mqttsn.Message) int {
	p.t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		p.t.Fatal(err)
	}
	return p.sendRaw(b)
}

// recv returns the next datagram, or nil when none comes within wait.
func (p *peer) recv(wait time.Duration) []byte {
	buf := make([]byte, 4096)
	p.pc.SetReadDeadline(time.Now().Add(wait))
	n, _, err := p.pc.ReadFrom(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func (p *peer) recvMsg(wait time.Duration) mqttsn.Message {
	b := p.recv(wait)
	if b == nil {
		return nil
	}
	m, err := mqttsn.DecodeDatagram(b)
	if err != nil {
		p.t.Fatalf("gateway sent an undecodable datagram % x: %v", b, err)
	}
	return m
}

// TestReliabilityNoAmplification: a datagram from an address that never
// answers (a spoofed victim) never makes the gateway send that address more
// octets than it received, counting every retransmission over Nretry
// retry intervals. SEARCHGW is answered with a GWINFO no longer than the
// SEARCHGW (MQTT-SN v1.2 §6.1: a gateway's GWINFO carries no GwAdd).
func TestReliabilityNoAmplification(t *testing.T) {
	h := newHostileGW(t, nil)
	// A gateway with admission: a CONNECT draws the Trusted System's
	// challenge (trust/tsclient sends a TSCHALLENGE with a 16-octet nonce and
	// the gateway's name), which is retransmitted only within the octets the
	// address sent.
	challenge := &mqttsn.TSChallenge{Challenge: make([]byte, mqttsn.TSNonceLen), Gateway: []byte("gw-3")}
	admitting := newHostileGW(t, func(c *gateway.Config) {
		c.Authenticator = gateway.AdmitFunc(func(ctx context.Context, req *gateway.AdmitRequest) error {
			_, err := req.Exchange(ctx, challenge)
			return err
		})
	})
	shortConnect := marshal(t, &mqttsn.Connect{CleanSession: true, Duration: 10, ClientID: []byte("a")})
	longConnect := marshal(t, &mqttsn.Connect{CleanSession: true, Duration: 10, ClientID: []byte("a-client-id-of-23-chars")})
	oversize := make([]byte, 1200)
	oversize[0], oversize[1], oversize[2], oversize[3] = 0x01, 0x04, 0xB0, 0x0C
	cases := []struct {
		name  string
		req   []byte
		reply mqttsn.MsgType // first answer expected; 0: none
		slack int            // known excess over the request
		gw    *hostileGW     // nil: h
	}{
		{"SEARCHGW radius 0", marshal(t, &mqttsn.SearchGW{}), mqttsn.TypeGWInfo, 0, nil},
		{"SEARCHGW radius 3", marshal(t, &mqttsn.SearchGW{Radius: 3}), mqttsn.TypeGWInfo, 0, nil},
		{"PUBLISH QoS 1 without a session", marshal(t, &mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 1, MsgID: 9}), mqttsn.TypeDisconnect, 0, nil},
		{"REGISTER without a session", marshal(t, &mqttsn.Register{MsgID: 1, TopicName: []byte("a")}), mqttsn.TypeDisconnect, 0, nil},
		{"PINGREQ of an unknown client", marshal(t, &mqttsn.Pingreq{ClientID: []byte("nobody")}), mqttsn.TypeDisconnect, 0, nil},
		{"CONNECT", marshal(t, &mqttsn.Connect{CleanSession: true, Duration: 10, ClientID: []byte("v")}), mqttsn.TypeConnack, 0, nil},
		// The will flow: WILLTOPICREQ retransmissions stop where they would
		// exceed what the address sent (Nretry = 3 would send 4 × 2 octets
		// for this 7-octet CONNECT).
		{"CONNECT with the will flag", marshal(t, &mqttsn.Connect{Will: true, CleanSession: true, Duration: 10, ClientID: []byte("w")}),
			mqttsn.TypeWillTopicReq, 0, nil},
		{"garbage", []byte{0x02, 0xEE}, 0, 0, nil},
		{"truncated header", []byte{0x01}, 0, 0, nil},
		{"oversized datagram", oversize, 0, 0, nil},
		// The first challenge must leave (it is the only way in for an
		// honest client) and so must the CONNACK refusing the client when
		// it never answers: a short CONNECT draws more than it sent, by that
		// much and no more — the one slack in this table. No retransmission
		// follows (it used to be sent 1 + Nretry times: 7 → 111 octets).
		{"CONNECT under admission", shortConnect, mqttsn.TypeTSChallenge,
			challenge.Len() + (&mqttsn.Connack{}).Len() - len(shortConnect), admitting},
		// A CONNECT as long as challenge and refusal earns no
		// retransmission either (two challenges would exceed it).
		{"long CONNECT under admission", longConnect, mqttsn.TypeTSChallenge, 0, admitting},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := h
			if c.gw != nil {
				h = c.gw
			}
			p := newPeer(t, h.gw, "127.0.0.1")
			before := h.seen()
			in := p.sendRaw(c.req)
			h.handled(t, before)
			out := 0
			if c.reply != 0 {
				b := p.recv(relWait)
				if b == nil {
					t.Fatalf("no %v", c.reply)
				}
				m, err := mqttsn.DecodeDatagram(b)
				if err != nil || m.Type() != c.reply {
					t.Fatalf("answer %v %v, want %v", m, err, c.reply)
				}
				out += len(b)
			}
			// Let every retransmission timer run out (virtual time), then
			// collect what was sent.
			if c.gw == admitting {
				// The admission exchange re-arms its retry timer on its own
				// goroutine: advance through each of its 1 + Nretry waits
				// once it has, then the refusal must come.
				for range h.cfg.MaxRetries + 1 {
					waitTimerDue(t, h.v, h.v.Now().Add(h.cfg.RetryInterval))
					h.v.Advance(h.cfg.RetryInterval)
				}
				for {
					b := p.recv(relWait)
					if b == nil {
						t.Fatal("no CONNACK after the challenge went unanswered")
					}
					out += len(b)
					if m, err := mqttsn.DecodeDatagram(b); err == nil && m.Type() == mqttsn.TypeConnack {
						break
					}
				}
			}
			for range h.cfg.MaxRetries + 2 {
				h.v.Advance(h.cfg.RetryInterval)
			}
			for b := p.recv(200 * time.Millisecond); b != nil; b = p.recv(200 * time.Millisecond) {
				out += len(b)
			}
			if out > in+c.slack {
				t.Errorf("%d octets in, %d octets out (amplification %.2f)", in, out, float64(out)/float64(in))
			}
			t.Logf("%d octets in, %d out", in, out)
		})
	}
}

// waitTimerDue waits until v's earliest timer is due at exactly at.
func waitTimerDue(t *testing.T, v *clock.Virtual, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(relWait)
	for {
		if next, ok := v.Next(); ok && next.Equal(at) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timer due at %v", at)
		}
		runtime.Gosched()
	}
}

func marshal(t *testing.T, m mqttsn.Message) []byte {
	t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReliabilitySpoofedTakeover: with an Authenticator (the Trusted
// System's admission in deployment; here one that admits the victim's
// client id only from the victim's socket, as only the victim holds the
// key), an impostor on another address cannot take the victim's session
// over: its CONNECT is refused, its PUBLISH and wake-up PINGREQ are
// answered with DISCONNECT to the impostor, and the victim keeps being
// served without a single DISCONNECT.
func TestReliabilitySpoofedTakeover(t *testing.T) {
	vpc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	victimAddr := vpc.LocalAddr().String()
	h := newHostileGW(t, func(c *gateway.Config) {
		c.Clock = clock.Real{} // clients and admission on real time here
		c.Authenticator = gateway.AdmitFunc(func(_ context.Context, r *gateway.AdmitRequest) error {
			if r.ClientID == "victim" && r.Addr.String() != victimAddr {
				return mqttsn.RejectedNotSupported
			}
			return nil
		})
	})
	disconnected := make(chan error, 1)
	victim := client.New(vpc, h.gw, client.Config{ClientID: "victim", KeepAlive: time.Hour,
		OnDisconnect: func(err error) { disconnected <- err }})
	defer func() { victim.Close(); vpc.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), relWait)
	defer cancel()
	if err := victim.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := victim.Publish(ctx, client.Named("ward/1"), mqttsn.QoS1, false, []byte("before")); err != nil {
		t.Fatal(err)
	}

	imp := newPeer(t, h.gw, "127.0.0.2")
	imp.send(&mqttsn.Connect{CleanSession: true, Duration: 60, ClientID: []byte("victim")})
	if m, ok := imp.recvMsg(relWait).(*mqttsn.Connack); !ok || m.ReturnCode == mqttsn.Accepted {
		t.Fatalf("impostor's CONNECT answered %v", m)
	}
	imp.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 1, MsgID: 77, Data: []byte("forged")})
	if _, ok := imp.recvMsg(relWait).(*mqttsn.Disconnect); !ok {
		t.Fatal("spoofed PUBLISH not answered with DISCONNECT")
	}
	imp.send(&mqttsn.Pingreq{ClientID: []byte("victim")})
	if m := imp.recvMsg(relWait); m != nil && m.Type() != mqttsn.TypeDisconnect {
		t.Fatalf("impostor's PINGREQ answered %v", m)
	}

	if err := victim.Publish(ctx, client.Named("ward/1"), mqttsn.QoS1, false, []byte("after")); err != nil {
		t.Fatalf("victim not served after the impostor: %v", err)
	}
	if err := victim.Ping(ctx); err != nil {
		t.Fatalf("victim not served after the impostor: %v", err)
	}
	select {
	case err := <-disconnected:
		t.Fatalf("victim disconnected: %v", err)
	default:
	}
	if v := gatherLabel(t, h.reg, "lsmqtt_gateway_connects_total", "result", "not_supported"); v != 1 {
		t.Fatalf("refused connects counted %v, want 1", v)
	}
}

// gatherLabel returns the value of the sample of family name whose label
// key has value val.
func gatherLabel(t *testing.T, reg prometheus.Gatherer, name, key, val string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == key && l.GetValue() == val {
					if c := m.GetCounter(); c != nil {
						return c.GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// TestReliabilityConnectFlood: 512 CONNECTs with the will flag (each a
// half-open connect waiting for WILLTOPIC) from 64 loopback source
// addresses × 8 ports flood a gateway whose MaxClients is 100 and
// MaxHalfOpen 20. Half-open connects never exceed MaxHalfOpen (the rest are
// answered "rejected: congestion" and counted as "half_open"), a client
// connected before the flood keeps being served during it, a newcomer whose
// connect does not wait on it (open mode, no will) still gets one of the
// slots MaxHalfOpen kept free, a newcomer with a will is refused, and once
// the half-open connects time out (Tretry × Nretry, virtual time) it
// connects too.
func TestReliabilityConnectFlood(t *testing.T) {
	const maxClients, maxHalfOpen, sources, ports = 100, 20, 64, 8
	h := newHostileGW(t, func(c *gateway.Config) { c.MaxClients, c.MaxHalfOpen = maxClients, maxHalfOpen })
	legit := newPeer(t, h.gw, "127.0.0.1")
	legit.send(&mqttsn.Connect{CleanSession: true, Duration: 0, ClientID: []byte("legit")})
	if m, ok := legit.recvMsg(relWait).(*mqttsn.Connack); !ok || m.ReturnCode != mqttsn.Accepted {
		t.Fatalf("legit CONNECT: %v", m)
	}

	sent := 0
	for s := range sources {
		for range ports {
			p := newPeer(t, h.gw, fmt.Sprintf("127.0.%d.%d", 10+s/200, 2+s%200))
			before := h.seen()
			p.send(&mqttsn.Connect{Will: true, CleanSession: true, Duration: 60, ClientID: []byte(fmt.Sprintf("f%d", sent))})
			h.handled(t, before)
			sent++
		}
		// The established client is served throughout.
		legit.send(&mqttsn.Pingreq{})
		if _, ok := legit.recvMsg(relWait).(*mqttsn.Pingresp); !ok {
			t.Fatalf("legit client not served after %d flooding CONNECTs", sent)
		}
	}
	halfOpen := gatherLabel(t, h.reg, "lsmqtt_gateway_clients", "state", "connecting")
	congestion := gatherLabel(t, h.reg, "lsmqtt_gateway_connects_total", "result", "congestion")
	refusedHalfOpen := gatherLabel(t, h.reg, "lsmqtt_gateway_drops_total", "reason", "half_open")
	if halfOpen != maxHalfOpen {
		t.Fatalf("%v half-open connects, want the bound %d", halfOpen, maxHalfOpen)
	}
	if int(halfOpen)+int(congestion) != sent || refusedHalfOpen != congestion {
		t.Fatalf("%d CONNECTs: %v half-open + %v refused with congestion (%v counted half_open)", sent, halfOpen, congestion, refusedHalfOpen)
	}
	// A newcomer with a will is refused while the bound is full…
	late := newPeer(t, h.gw, "127.0.0.1")
	lateConnect := &mqttsn.Connect{Will: true, CleanSession: true, Duration: 60, ClientID: []byte("late")}
	late.send(lateConnect)
	if m, ok := late.recvMsg(relWait).(*mqttsn.Connack); !ok || m.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatalf("newcomer with a will during the flood: %v", m)
	}
	// …one without a will is not: the flood holds MaxHalfOpen of the
	// MaxClients slots, not all of them.
	plain := newPeer(t, h.gw, "127.0.0.1")
	plain.send(&mqttsn.Connect{CleanSession: true, Duration: 60, ClientID: []byte("plain")})
	if m, ok := plain.recvMsg(relWait).(*mqttsn.Connack); !ok || m.ReturnCode != mqttsn.Accepted {
		t.Fatalf("newcomer without a will during the flood: %v", m)
	}
	// …and the one with a will is admitted once the half-open connects
	// have timed out.
	for range h.cfg.MaxRetries + 2 {
		h.v.Advance(h.cfg.RetryInterval)
	}
	if v := gatherLabel(t, h.reg, "lsmqtt_gateway_clients", "state", "connecting"); v != 0 {
		t.Fatalf("%v half-open connects left after the timeout", v)
	}
	late.send(lateConnect)
	if m, ok := late.recvMsg(relWait).(*mqttsn.WillTopicReq); !ok {
		t.Fatalf("newcomer with a will after the flood: %v, want WILLTOPICREQ", m)
	}
	late.send(&mqttsn.WillTopic{Topic: []byte("ward/late/will")})
	if m, ok := late.recvMsg(relWait).(*mqttsn.WillMsgReq); !ok {
		t.Fatalf("newcomer with a will after the flood: %v, want WILLMSGREQ", m)
	}
	late.send(&mqttsn.WillMsg{Msg: []byte("gone")})
	if m, ok := late.recvMsg(relWait).(*mqttsn.Connack); !ok || m.ReturnCode != mqttsn.Accepted {
		t.Fatalf("newcomer with a will after the flood: %v", m)
	}
	t.Logf("%d flooding CONNECTs from %d addresses: %v half-open (bound %d of MaxClients %d), %v refused with congestion (half_open %v); established client served throughout, newcomer without a will accepted during the flood",
		sent, sources, halfOpen, maxHalfOpen, maxClients, congestion, refusedHalfOpen)
}

// TestReliabilityConnectRateLimit: with Config.ConnectRate, CONNECTs from
// one host beyond the burst are dropped unanswered and counted
// ("connect_rate"), other hosts are unaffected, and the host may connect
// again once its bucket has refilled (virtual time).
func TestReliabilityConnectRateLimit(t *testing.T) {
	h := newHostileGW(t, func(c *gateway.Config) { c.ConnectRate, c.ConnectBurst = 1, 5 })
	// One host, many source ports: the limit is per host, and each CONNECT
	// comes from its own socket so none of them is taken for a retransmission
	// of another's CONNECT from the same address.
	answered := 0
	const n = 50
	socks := make([]*peer, n)
	for i := range n {
		socks[i] = newPeer(t, h.gw, "127.0.0.3")
		before := h.seen()
		socks[i].send(&mqttsn.Connect{CleanSession: true, Duration: 60, ClientID: []byte(fmt.Sprintf("r%d", i))})
		h.handled(t, before)
	}
	for i, s := range socks {
		// The first ConnectBurst got through the limiter: wait for their
		// CONNACKs with the generous wait; the rest must stay unanswered.
		wait := 200 * time.Millisecond
		if i < 5 {
			wait = relWait
		}
		if m := s.recvMsg(wait); m != nil && m.Type() == mqttsn.TypeConnack {
			answered++
		}
	}
	flood := socks[0]
	limited := gatherLabel(t, h.reg, "lsmqtt_gateway_drops_total", "reason", "connect_rate")
	if answered != 5 || limited != n-5 {
		t.Fatalf("%d CONNECTs from one host: %d answered, %v counted as connect_rate; want 5 and %d", n, answered, limited, n-5)
	}
	other := newPeer(t, h.gw, "127.0.0.4")
	other.send(&mqttsn.Connect{CleanSession: true, Duration: 60, ClientID: []byte("other")})
	if m, ok := other.recvMsg(relWait).(*mqttsn.Connack); !ok || m.ReturnCode != mqttsn.Accepted {
		t.Fatalf("another host during the flood: %v", m)
	}
	h.v.Advance(2 * time.Second)
	flood.send(&mqttsn.Connect{CleanSession: true, Duration: 60, ClientID: []byte("r-again")})
	if m, ok := flood.recvMsg(relWait).(*mqttsn.Connack); !ok || m.ReturnCode != mqttsn.Accepted {
		t.Fatalf("the host after its bucket refilled: %v", m)
	}
	t.Logf("%d CONNECTs from one host at once: %d answered (burst), %v dropped and counted; another host served", n, answered, limited)
}
