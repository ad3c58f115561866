package gateway

import (
	"bytes"
	"fmt"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

var fuzzPeerKey = bytes.Repeat([]byte{0x42}, 32)

// peerSeeds are authentic peer messages of every type (From "gw-x", keyed
// with fuzzPeerKey, Time 0 on the fuzz gateway's clock).
func peerSeeds(t testing.TB) [][]byte {
	sess, err := (&mqttsn.HOSession{KeepAlive: 60, NextTopicID: 1,
		Topics: []mqttsn.HOTopic{{ID: 1, Known: true, Name: []byte("w/1/hr")}},
		Subs:   []mqttsn.HOSub{{QoS: 1, Filter: []byte("w/1/cmd")}},
		Queue:  []mqttsn.HOMessage{{QoS: 1, Topic: []byte("w/1/cmd"), Payload: []byte("x")}},
	}).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := bytes.Repeat([]byte{7}, 16)
	id := []byte("node-1")
	msgs := []mqttsn.Message{
		&mqttsn.HOFetch{XID: 1, ClientID: id, Token: tok},
		&mqttsn.HOTransfer{XID: 1, ClientID: id, Token: tok, Session: sess},
		&mqttsn.HOTransfer{XID: 2, Push: true, Expiry: 4000000000, ClientID: id, Token: tok, Session: sess},
		&mqttsn.HOConfirm{XID: 1, ClientID: id},
		&mqttsn.HORefuse{XID: 1, Reason: mqttsn.HOBusy, ClientID: id},
		&mqttsn.HOForward{Seq: 1, ClientID: id, Msgs: []mqttsn.HOMessage{{Topic: []byte("w/1/cmd"), Payload: []byte("y")}}},
		&mqttsn.HOFwdAck{Seq: 1, ClientID: id},
	}
	var out [][]byte
	for _, m := range msgs {
		hd, mac := peerParts(m)
		hd.From, hd.Time, hd.Nonce = []byte("gw-x"), uint64(epoch0.UnixMilli()), bytes.Repeat([]byte{1}, 8)
		*mac = make([]byte, mqttsn.HOMACLen)
		b, err := mqttsn.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		resign(b)
		out = append(out, b)
	}
	return out
}

// resign recomputes the MAC of a peer message in place, if it is framed as one.
func resign(b []byte) {
	if ad, mac, err := mqttsn.PeerAuthData(b); err == nil {
		copy(mac, peerMAC(fuzzPeerKey, ad))
	}
}

// FuzzPeerDatagram feeds the peer socket's handler arbitrary datagrams, and
// the same re-signed with the peer's key, so that the handlers behind the
// MAC check see authenticated garbage too: nothing may panic.
func FuzzPeerDatagram(f *testing.F) {
	for _, s := range peerSeeds(f) {
		f.Add(s)
	}
	clk := clock.NewVirtual(epoch0)
	var g *Gateway
	e, err := broker.NewEmbedded(broker.EmbeddedConfig{Deliver: func(id string, m broker.Message) { g.Deliver(id, m) }})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	g, err = New(Config{Clock: clk, Registerer: prometheus.NewRegistry(), Peering: &PeeringConfig{
		Name: "gw-a", Peers: []Peer{{Name: "gw-x", Addr: "127.0.0.1:9", Key: fuzzPeerKey}}}}, e)
	if err != nil {
		f.Fatal(err)
	}
	defer g.Close()
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	f.Fuzz(func(t *testing.T, b []byte) {
		g.ho.handlePeerDatagram(b, from)
		b = bytes.Clone(b)
		resign(b)
		g.ho.handlePeerDatagram(b, from)
	})
}

// TestPeerDatagramCorpusCommitted keeps testdata/fuzz/FuzzPeerDatagram in
// step with peerSeeds; LSMQTT_UPDATE_CORPUS=1 rewrites it.
func TestPeerDatagramCorpusCommitted(t *testing.T) {
	var seeds []testutil.Seed
	for i, b := range peerSeeds(t) {
		typ := b[1]
		if b[0] == 0x01 { // three-byte Length (MQTT-SN v1.2 §5.2.1)
			typ = b[3]
		}
		seeds = append(seeds, testutil.Seed{Name: fmt.Sprintf("seed_%02x_%d", typ, i), Data: b})
	}
	testutil.CheckCorpus(t, "FuzzPeerDatagram", seeds)
}
