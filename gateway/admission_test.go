package gateway

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
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
	nonce       []byte // when set, the nonce for every client; else "n0nce-" + client id
	mu          sync.Mutex
	reqs        []AdmitRequest
}

func (a *challengeAuth) Admit(ctx context.Context, req *AdmitRequest) error {
	a.mu.Lock()
	a.reqs = append(a.reqs, *req)
	nonce := []byte("n0nce-" + req.ClientID)
	if a.nonce != nil {
		nonce = a.nonce
	}
	a.mu.Unlock()
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

// TestAdmissionChallengeUnanswered: a client that never answers is refused
// after MaxRetries + 1 retry intervals. The challenge is retransmitted only
// while the octets sent to the address stay within the octets it sent (no
// amplification towards a spoofed source): a challenge longer than the
// CONNECT is sent once; a 3-octet challenge to a 7-octet CONNECT is sent
// twice (6 octets), not three times (9).
func TestAdmissionChallengeUnanswered(t *testing.T) {
	for _, tc := range []struct {
		name       string
		nonce      []byte // nil: "n0nce-" + client id, longer than the CONNECT
		clientID   string
		challenges int // sent in all, the first included
	}{
		{"challenge longer than CONNECT", nil, "mute", 1},
		{"short challenge", []byte{0x5A}, "m", 2},
		{"long CONNECT", []byte{0x5A}, "mute-client-1234", 3}, // 22 octets in: MaxRetries bounds
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, a := newAuthHarness(t)
			a.mu.Lock()
			a.nonce = tc.nonce
			a.mu.Unlock()
			c := h.client()
			connect := &mqttsn.Connect{ClientID: []byte(tc.clientID), CleanSession: true, Duration: 60}
			c.send(connect)
			in := connect.Len()
			out := 0
			for i := 0; i <= 2; i++ { // MaxRetries = 2: three waits of RetryInterval
				if i < tc.challenges {
					raw := c.recvRaw()
					if mqttsn.MsgType(raw[1]) != a.chal {
						t.Fatalf("% x", raw)
					}
					out += len(raw)
				}
				waitTimerAt(t, h.clk, h.clk.Now().Add(5*time.Second))
				h.clk.Advance(5 * time.Second)
			}
			// The client is refused once the last wait has run out (the
			// refusal answers its CONNECT; it is not retransmitted).
			if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.RejectedNotSupported {
				t.Fatal(ack.ReturnCode)
			}
			// Nothing else was sent: the next thing this address hears is
			// the answer to its PINGREQ (DISCONNECT: it has no session).
			c.send(&mqttsn.Pingreq{})
			expect[*mqttsn.Disconnect](c)
			st := h.g.Stats()
			if st.Retransmissions != uint64(tc.challenges-1) {
				t.Fatalf("retransmissions = %d, want %d", st.Retransmissions, tc.challenges-1)
			}
			if st.Clients["connecting"] != 0 || st.Sessions != 0 {
				t.Fatalf("connect not ended: %+v", st)
			}
			if tc.challenges > 1 && out > in {
				t.Fatalf("%d octets in, %d challenge octets out", in, out)
			}
		})
	}
}

// waitTimerAt waits until clk has a timer due at exactly at (the exchange
// re-arms its retry timer on its own goroutine; advancing before it has
// would skip the wait).
func waitTimerAt(t *testing.T, clk *clock.Virtual, at time.Time) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		if next, ok := clk.Next(); ok && next.Equal(at) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timer due at %v", at)
		}
		runtime.Gosched()
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

// TestAdmissionHalfOpenBound: connects in admission wait on their client
// (the challenge is out) and count against MaxHalfOpen: beyond it a CONNECT
// is refused with congestion and counted as "half_open"; once the pending
// connect completes, the next one is admitted.
func TestAdmissionHalfOpenBound(t *testing.T) {
	ts := freeExtTypes(t, mqttsn.ExtTrustFirst, mqttsn.ExtTrustLast, 2)
	a := &challengeAuth{chal: ts[0], proof: ts[1]}
	h := newHarness(t, func(c *Config) { c.Authenticator, c.MaxHalfOpen = a, 1 })
	first, second := h.client(), h.client()
	first.send(&mqttsn.Connect{ClientID: []byte("first"), CleanSession: true, Duration: 60})
	raw := first.recvRaw() // its challenge: the connect is half-open
	if mqttsn.MsgType(raw[1]) != a.chal {
		t.Fatalf("% x", raw)
	}
	second.send(&mqttsn.Connect{ClientID: []byte("second"), CleanSession: true, Duration: 60})
	if ack := expect[*mqttsn.Connack](second); ack.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatalf("second CONNECT while one is half-open: %v", ack.ReturnCode)
	}
	if n := h.drops("half_open"); n != 1 {
		t.Fatalf("half_open drops %d", n)
	}
	first.send(&mqttsn.Unknown{MsgType: a.proof, Body: reversed(raw[2:])})
	if ack := expect[*mqttsn.Connack](first); ack.ReturnCode != mqttsn.Accepted {
		t.Fatal(ack.ReturnCode)
	}
	second.send(&mqttsn.Connect{ClientID: []byte("second"), CleanSession: true, Duration: 60})
	answerChallenge(t, second, a, true)
	if ack := expect[*mqttsn.Connack](second); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("second CONNECT after the first completed: %v", ack.ReturnCode)
	}
}
