package gateway

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// freeExtTypes returns n extension types in first..last that no package has
// registered with the codec, so these tests control their layout.
func freeExtTypes(t *testing.T, first, last mqttsn.MsgType, n int) []mqttsn.MsgType {
	t.Helper()
	var out []mqttsn.MsgType
	for x := first; x <= last && len(out) < n; x++ {
		if !x.IsExtension() {
			out = append(out, x)
		}
	}
	if len(out) < n {
		t.Skipf("no %d unregistered extension types in %v..%v", n, first, last)
	}
	return out
}

// challengeAuth is a toy Authenticator: it challenges with a nonce and admits
// a client whose proof is the nonce reversed.
type challengeAuth struct {
	chal, proof mqttsn.MsgType
	mu          sync.Mutex
	reqs        []AdmitRequest
}

func (a *challengeAuth) Admit(ctx context.Context, req *AdmitRequest) error {
	a.mu.Lock()
	a.reqs = append(a.reqs, *req)
	a.mu.Unlock()
	nonce := []byte("n0nce-" + req.ClientID)
	ans, err := req.Exchange(ctx, &mqttsn.Unknown{MsgType: a.chal, Body: nonce})
	if err != nil {
		return err
	}
	u, ok := ans.(*mqttsn.Unknown)
	if !ok || u.MsgType != a.proof || !bytes.Equal(u.Body, reversed(nonce)) {
		return mqttsn.RejectedNotSupported
	}
	return nil
}

func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

// answerChallenge reads the challenge and answers it (correctly or not).
func answerChallenge(t *testing.T, c *client, a *challengeAuth, correct bool) {
	t.Helper()
	raw := c.recvRaw()
	h, err := mqttsn.ReadHeader(raw)
	if err != nil || h.Type != a.chal {
		t.Fatalf("want challenge type %v, got % x (%v)", a.chal, raw, err)
	}
	proof := reversed(raw[h.HeaderLen:h.Length])
	if !correct {
		proof[0] ^= 0xFF
	}
	c.send(&mqttsn.Unknown{MsgType: a.proof, Body: proof})
}

func newAuthHarness(t *testing.T) (*harness, *challengeAuth) {
	ts := freeExtTypes(t, mqttsn.ExtTrustFirst, mqttsn.ExtTrustLast, 2)
	a := &challengeAuth{chal: ts[0], proof: ts[1]}
	h := newHarness(t, func(c *Config) {
		c.Authenticator = a
		c.RetryInterval = 5 * time.Second
		c.MaxRetries = 2
	})
	return h, a
}

func TestAdmissionChallengeAccepted(t *testing.T) {
	h, a := newAuthHarness(t)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("node-9"), CleanSession: true, Duration: 60})
	answerChallenge(t, c, a, true)
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatal(ack.ReturnCode)
	}
	a.mu.Lock()
	req := a.reqs[0]
	a.mu.Unlock()
	if req.ClientID != "node-9" || !req.CleanSession || req.Addr.String() != c.conn.LocalAddr().String() || req.NodeID != nil {
		t.Fatalf("AdmitRequest %+v", req)
	}
	c.sync()
}

func TestAdmissionChallengeRefused(t *testing.T) {
	h, a := newAuthHarness(t)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("node-9"), CleanSession: true, Duration: 60})
	answerChallenge(t, c, a, false)
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.RejectedNotSupported {
		t.Fatal(ack.ReturnCode)
	}
	if h.b.isAttached("node-9") {
		t.Fatal("refused client attached at the broker")
	}
	if st := h.g.Stats(); st.Sessions != 0 || st.Drops["admission"] != 1 {
		t.Fatalf("%+v", st)
	}
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](c)
}

func TestAdmissionChallengeUnanswered(t *testing.T) {
	h, a := newAuthHarness(t)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("mute"), CleanSession: true, Duration: 60})
	for i := 0; i <= 2; i++ { // the challenge and MaxRetries retransmissions
		raw := c.recvRaw()
		if mqttsn.MsgType(raw[1]) != a.chal {
			t.Fatalf("% x", raw)
		}
		h.clk.Advance(5 * time.Second)
	}
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.RejectedNotSupported {
		t.Fatal(ack.ReturnCode)
	}
	if n := h.g.Stats().Retransmissions; n != 2 {
		t.Fatalf("retransmissions = %d", n)
	}
}

// In secure mode a CONNECT that fails admission cannot take a session over.
func TestAdmissionProtectsTakeOver(t *testing.T) {
	h, a := newAuthHarness(t)
	owner, thief := h.client(), h.client()
	owner.send(&mqttsn.Connect{ClientID: []byte("victim"), CleanSession: false, Duration: 60})
	answerChallenge(t, owner, a, true)
	expect[*mqttsn.Connack](owner)
	thief.send(&mqttsn.Connect{ClientID: []byte("victim"), CleanSession: true, Duration: 60})
	answerChallenge(t, thief, a, false)
	if ack := expect[*mqttsn.Connack](thief); ack.ReturnCode == mqttsn.Accepted {
		t.Fatal("thief admitted")
	}
	owner.sync() // still served, no DISCONNECT
	if st := h.g.Stats(); st.Clients["active"] != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestAdmitReturnCodePassesThrough(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Authenticator = AdmitFunc(func(context.Context, *AdmitRequest) error { return mqttsn.RejectedCongestion })
	})
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("x"), Duration: 60})
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatal(ack.ReturnCode)
	}
}

func TestExtensionHandler(t *testing.T) {
	ts := freeExtTypes(t, mqttsn.ExtPeerFirst, mqttsn.ExtPeerLast, 2)
	got := make(chan *ExtensionRequest, 4)
	h := newHarness(t, func(c *Config) {
		c.Extensions = map[byte]ExtensionHandler{byte(ts[0]): func(r *ExtensionRequest) { got <- r }}
	})
	c := h.client()
	c.send(&mqttsn.Unknown{MsgType: ts[0], Body: []byte("hello")})
	r := <-got
	if r.ClientID != "" || r.Addr.String() != c.conn.LocalAddr().String() {
		t.Fatalf("%+v", r)
	}
	if u, ok := r.Msg.(*mqttsn.Unknown); !ok || string(u.Body) != "hello" {
		t.Fatalf("%+v", r.Msg)
	}
	if err := r.Reply(&mqttsn.Unknown{MsgType: ts[0], Body: []byte("back")}); err != nil {
		t.Fatal(err)
	}
	if raw := c.recvRaw(); string(raw[2:]) != "back" {
		t.Fatalf("% x", raw)
	}
	c.connect("ext", true, 60)
	c.send(&mqttsn.Unknown{MsgType: ts[0], Body: []byte("again")})
	if r := <-got; r.ClientID != "ext" {
		t.Fatalf("ClientID %q", r.ClientID)
	}
	c.send(&mqttsn.Unknown{MsgType: ts[1]}) // no handler
	c.sync()
	if h.drops("unhandled_extension") != 1 {
		t.Fatal(h.g.Stats().Drops)
	}
}
