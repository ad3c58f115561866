package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// fakePeer is a test's own gateway-to-gateway endpoint: it signs (or
// forges) peer messages to the gateway under test.
type fakePeer struct {
	t    *testing.T
	name string
	key  []byte
	pc   net.PacketConn
	to   net.Addr
	clk  clock.Clock
}

// peeredGateway is a gateway named gw-a with one peer, gw-x (a fakePeer).
func peeredGateway(t *testing.T) (*Gateway, *fakePeer, *clock.Virtual, *net.UDPAddr) {
	t.Helper()
	clk := clock.NewVirtual(epoch0)
	fp := &fakePeer{t: t, name: "gw-x", key: make([]byte, 32), clk: clk}
	_, _ = rand.Read(fp.key)
	var err error
	if fp.pc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fp.pc.Close() })
	var g *Gateway
	e, err := broker.NewEmbedded(broker.EmbeddedConfig{Deliver: func(id string, m broker.Message) { g.Deliver(id, m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	g, err = New(Config{Clock: clk, Registerer: prometheus.NewRegistry(), Peering: &PeeringConfig{
		Name: "gw-a", Peers: []Peer{{Name: fp.name, Addr: fp.pc.LocalAddr().String(), Key: fp.key}}}}, e)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, g: g}
	snAddr := h.serve("udp4", "127.0.0.1:0")
	ppc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = g.ServePeers(ctx, ppc) }()
	t.Cleanup(func() { cancel(); g.Close(); wg.Wait(); ppc.Close() })
	fp.to = ppc.LocalAddr()
	return g, fp, clk, snAddr
}

// sign encodes m with a fresh header (time from the clock, random nonce)
// and a MAC under key.
func (fp *fakePeer) sign(m mqttsn.Message, from string, key []byte, at time.Time) []byte {
	fp.t.Helper()
	hd, mac := peerParts(m)
	hd.From, hd.Time, hd.Nonce = []byte(from), uint64(at.UnixMilli()), make([]byte, mqttsn.HONonceLen)
	_, _ = rand.Read(hd.Nonce)
	*mac = make([]byte, mqttsn.HOMACLen)
	b, err := mqttsn.Marshal(m)
	if err != nil {
		fp.t.Fatal(err)
	}
	ad, macField, err := mqttsn.PeerAuthData(b)
	if err != nil {
		fp.t.Fatal(err)
	}
	copy(macField, peerMAC(key, ad))
	return b
}

func (fp *fakePeer) send(b []byte) {
	fp.t.Helper()
	if _, err := fp.pc.WriteTo(b, fp.to); err != nil {
		fp.t.Fatal(err)
	}
}

// recv returns the next peer message from the gateway, after checking its
// MAC under the shared key.
func (fp *fakePeer) recv() mqttsn.Message {
	fp.t.Helper()
	_ = fp.pc.SetReadDeadline(time.Now().Add(waitFor))
	buf := make([]byte, mqttsn.MaxLen)
	n, _, err := fp.pc.ReadFrom(buf)
	if err != nil {
		fp.t.Fatalf("no peer message: %v", err)
	}
	ad, mac, err := mqttsn.PeerAuthData(buf[:n])
	if err != nil || !peerMACOK(fp.key, ad, mac) {
		fp.t.Fatalf("peer message does not authenticate: %v", err)
	}
	m, err := mqttsn.DecodeDatagram(buf[:n])
	if err != nil {
		fp.t.Fatal(err)
	}
	return m
}

// TestPeerAttacks: forged, unauthenticated, replayed and stale peer
// messages are dropped and counted by reason; the valid one that follows
// each is answered (the answers come in order, so nothing was answered
// before it).
func TestPeerAttacks(t *testing.T) {
	g, fp, clk, _ := peeredGateway(t)
	fetch := func() *mqttsn.HOFetch {
		return &mqttsn.HOFetch{XID: 9, ClientID: []byte("nobody"), Token: bytes.Repeat([]byte{1}, 32)}
	}
	valid := func() {
		t.Helper()
		fp.send(fp.sign(fetch(), fp.name, fp.key, clk.Now()))
		m, ok := fp.recv().(*mqttsn.HORefuse)
		if !ok || m.XID != 9 || m.Reason != mqttsn.HOUnknownClient || string(m.Hdr.From) != "gw-a" {
			t.Fatalf("answer %#v", m)
		}
	}
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	forged := fp.sign(fetch(), fp.name, other, clk.Now()) // right name, wrong key
	tampered := fp.sign(fetch(), fp.name, fp.key, clk.Now())
	tampered[len(tampered)-20] ^= 1 // a bit of the token
	cases := []struct {
		reason string
		b      []byte
	}{
		{"forged", forged},
		{"forged", tampered},
		{"unknown_peer", fp.sign(fetch(), "gw-z", fp.key, clk.Now())},
		{"malformed", []byte{0x05, 0xb3, 0, 0, 0}},
		{"malformed", mustMarshal(t, &mqttsn.Pingreq{})},
		{"stale", fp.sign(fetch(), fp.name, fp.key, clk.Now().Add(-time.Minute))},
		{"stale", fp.sign(fetch(), fp.name, fp.key, clk.Now().Add(time.Minute))},
	}
	for _, c := range cases {
		fp.send(c.b)
		valid()
	}
	replayed := fp.sign(fetch(), fp.name, fp.key, clk.Now())
	fp.send(replayed)
	if _, ok := fp.recv().(*mqttsn.HORefuse); !ok {
		t.Fatal("no answer to the original")
	}
	fp.send(replayed)
	valid()
	st := g.HandoverStats()
	want := map[string]uint64{"forged": 2, "unknown_peer": 1, "malformed": 2, "stale": 2, "replay": 1}
	for r, n := range want {
		if st.PeerDrops[r] != n {
			t.Errorf("drops %s = %d, want %d (all: %v)", r, st.PeerDrops[r], n, st.PeerDrops)
		}
	}
	// A nonce is remembered while the window lasts; once it has passed, the
	// message is stale instead.
	clk.Advance(time.Minute)
	fp.send(replayed)
	valid()
	if st := g.HandoverStats(); st.PeerDrops["stale"] != 3 {
		t.Errorf("old replay: %v", st.PeerDrops)
	}
}

func mustMarshal(t *testing.T, m mqttsn.Message) []byte {
	b, err := mqttsn.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPeerFetchTokenRules: the home gateway hands a session over only for
// the token it issued to that very client, once.
func TestPeerFetchTokenRules(t *testing.T) {
	g, fp, clk, sn := peeredGateway(t)
	cx, cy := newClient(t, sn), newClient(t, sn)
	cx.connect("node-x", true, 60)
	tx := expect[*mqttsn.HOToken](cx)
	cy.connect("node-y", true, 60)
	ty := expect[*mqttsn.HOToken](cy)
	if string(tx.Home) != "gw-a" || bytes.Equal(tx.Token, ty.Token) {
		t.Fatalf("tokens %x %x", tx.Token, ty.Token)
	}
	fetch := func(id string, tok []byte, xid uint32) mqttsn.Message {
		fp.send(fp.sign(&mqttsn.HOFetch{XID: xid, ClientID: []byte(id), Token: tok}, fp.name, fp.key, clk.Now()))
		return fp.recv()
	}
	// Someone else's token, or a tampered one.
	if m, ok := fetch("node-y", tx.Token, 1).(*mqttsn.HORefuse); !ok || m.Reason != mqttsn.HOBadToken {
		t.Fatalf("x's token for y: %#v", m)
	}
	bad := bytes.Clone(ty.Token)
	bad[0] ^= 1
	if m, ok := fetch("node-y", bad, 2).(*mqttsn.HORefuse); !ok || m.Reason != mqttsn.HOBadToken {
		t.Fatalf("tampered token: %#v", m)
	}
	// The right one moves the session; the client's own address is then
	// told nothing more (its next PUBLISH is answered with DISCONNECT).
	tr, ok := fetch("node-x", tx.Token, 3).(*mqttsn.HOTransfer)
	if !ok || tr.XID != 3 || tr.Push || !bytes.Equal(tr.Token, tx.Token) {
		t.Fatalf("transfer %#v", tr)
	}
	var rec mqttsn.HOSession
	if err := rec.Decode(tr.Session); err != nil || rec.KeepAlive != 60 || !rec.Clean {
		t.Fatalf("session %+v: %v", rec, err)
	}
	// A repeated fetch (our transfer was lost) gets the same session again;
	// another XID with the used token is refused.
	if again, ok := fetch("node-x", tx.Token, 3).(*mqttsn.HOTransfer); !ok || !bytes.Equal(again.Session, tr.Session) {
		t.Fatalf("repeated fetch: %#v", again)
	}
	if m, ok := fetch("node-x", tx.Token, 4).(*mqttsn.HORefuse); !ok || m.Reason != mqttsn.HOUnknownClient {
		t.Fatalf("token used twice: %#v", m)
	}
	cx.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDShort, TopicID: 0x6869, MsgID: 1, Data: []byte("x")})
	expect[*mqttsn.Disconnect](cx)
	// Confirmed: the session is gone from here.
	fp.send(fp.sign(&mqttsn.HOConfirm{XID: 3, ClientID: []byte("node-x")}, fp.name, fp.key, clk.Now()))
	st := g.HandoverStats()
	if st.Failed["out/bad_token"] != 2 {
		t.Errorf("stats %+v", st)
	}
}
