package client

import (
	"errors"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// A DISCONNECT that reaches a connecting client is not the answer to its
// CONNECT (MQTT-SN v1.2 §5.4.5, §6.2: that is CONNACK, a refusal included).
// It is a leftover of an earlier exchange with the gateway, e.g. the visited
// gateway's answer to a PUBLISH sent behind a refused HO-RESUME. Connect
// ignores it and keeps waiting.

// passedReader proves the client's reader handled everything the gateway
// sent so far: datagrams are handled in order, and PINGREQ is answered at
// once (§6.11).
func (h *harness) passedReader(t *testing.T) {
	t.Helper()
	h.gw.send(&mqttsn.Pingreq{})
	h.gw.expect(mqttsn.TypePingresp)
}

// noDisconnectCallback checks that OnDisconnect was not queued.
func (h *harness) noDisconnectCallback(t *testing.T) {
	t.Helper()
	if err := h.c.flushCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.disc:
		t.Fatalf("OnDisconnect(%v) for a stale DISCONNECT", err)
	default:
	}
}

func TestConnectIgnoresStaleDisconnect(t *testing.T) {
	h := setup(t, Config{})
	done := async(func() error { return h.c.Connect(ctx) })
	h.gw.expect(mqttsn.TypeConnect)
	h.gw.send(&mqttsn.Disconnect{})
	h.passedReader(t)
	if st := h.c.State(); st != StateConnecting {
		t.Fatalf("state %v after a stale DISCONNECT, want connecting", st)
	}
	h.gw.send(&mqttsn.Connack{ReturnCode: mqttsn.Accepted})
	waitOK(t, done)
	if st := h.c.State(); st != StateActive {
		t.Fatalf("state %v", st)
	}
	s := h.c.Stats()
	if s.Ignored != 1 || s.DatagramsSent != 2 { // CONNECT + PINGRESP: no second CONNECT
		t.Fatalf("stats %+v, want 1 ignored and 2 datagrams sent", s)
	}
	h.noDisconnectCallback(t)
}

func TestConnectStaleDisconnectDuringAdmission(t *testing.T) {
	// The Trusted System's admission: CONNECT, TS-CHALLENGE, TS-PROOF,
	// CONNACK. A DISCONNECT in between must not make the node connect again:
	// a second CONNECT would restart the admission and the proof for the
	// first challenge would fail.
	h := setup(t, Config{})
	done := async(func() error { return h.c.Connect(ctx) })
	h.gw.expect(mqttsn.TypeConnect)
	nonce := make([]byte, mqttsn.TSNonceLen)
	nonce[0] = 0x5A
	h.gw.send(&mqttsn.TSChallenge{Challenge: nonce, Gateway: []byte("gw-a")})
	h.gw.send(&mqttsn.Disconnect{})
	var ch *mqttsn.TSChallenge
	select {
	case m := <-h.ext:
		ch = m.(*mqttsn.TSChallenge)
	case <-time.After(safety):
		t.Fatal("TS-CHALLENGE not handed to OnUnsolicited")
	}
	h.passedReader(t) // the DISCONNECT has been handled
	if err := h.c.Send(&mqttsn.TSProof{Challenge: ch.Challenge, Proof: make([]byte, mqttsn.TSMACLen)}); err != nil {
		t.Fatal(err)
	}
	if p := h.gw.expect(mqttsn.TypeTSProof).(*mqttsn.TSProof); p.Challenge[0] != 0x5A {
		t.Fatalf("TS-PROOF for challenge % x", p.Challenge)
	}
	h.gw.send(&mqttsn.Connack{ReturnCode: mqttsn.Accepted})
	if err := wait(t, done); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if s := h.c.Stats(); s.Ignored != 1 || s.DatagramsSent != 3 { // CONNECT, PINGRESP, TS-PROOF
		t.Fatalf("stats %+v, want 1 ignored and 3 datagrams sent", s)
	}
	h.noDisconnectCallback(t)
}

func TestConnectStaleDisconnectKeepsRetryRules(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		// Unanswered after the DISCONNECT: CONNECT goes out again at Tretry
		// and Connect gives up after Nretry, as without it (§6.13).
		h := setup(t, Config{RetryInterval: 10 * time.Second, MaxRetries: 1})
		done := async(func() error { return h.c.Connect(ctx) })
		h.gw.expect(mqttsn.TypeConnect)
		h.gw.send(&mqttsn.Disconnect{})
		h.passedReader(t)
		h.clk.Advance(10 * time.Second)
		h.gw.expect(mqttsn.TypeConnect)
		h.clk.Advance(10 * time.Second)
		var te *TimeoutError
		if err := wait(t, done); !errors.As(err, &te) || te.Type != mqttsn.TypeConnect || te.Retries != 1 {
			t.Fatalf("got %v, want a CONNECT timeout after 1 retransmission", err)
		}
		if st := h.c.State(); st != StateDisconnected {
			t.Fatalf("state %v", st)
		}
		if s := h.c.Stats(); s.Ignored != 1 || s.Timeouts != 1 || s.Retransmissions != 1 {
			t.Fatalf("stats %+v", s)
		}
	})
	t.Run("refused", func(t *testing.T) {
		// A real refusal, CONNACK with a return code, still ends Connect.
		h := setup(t, Config{})
		done := async(func() error { return h.c.Connect(ctx) })
		h.gw.expect(mqttsn.TypeConnect)
		h.gw.send(&mqttsn.Disconnect{})
		h.gw.send(&mqttsn.Connack{ReturnCode: mqttsn.RejectedNotSupported})
		if err := wait(t, done); !errors.Is(err, mqttsn.RejectedNotSupported) {
			t.Fatalf("got %v, want rejected: not supported", err)
		}
		if st := h.c.State(); st != StateDisconnected {
			t.Fatalf("state %v", st)
		}
		if s := h.c.Stats(); s.Ignored != 1 {
			t.Fatalf("stats %+v, want the DISCONNECT counted as ignored", s)
		}
	})
	t.Run("after connect", func(t *testing.T) {
		// Once connected, a DISCONNECT ends the connection as before (§6.12).
		h := setup(t, Config{})
		h.connect(t)
		h.gw.send(&mqttsn.Disconnect{})
		select {
		case err := <-h.disc:
			if !errors.Is(err, ErrDisconnected) {
				t.Fatalf("OnDisconnect(%v)", err)
			}
		case <-time.After(safety):
			t.Fatal("OnDisconnect not called")
		}
		if st := h.c.State(); st != StateLost {
			t.Fatalf("state %v", st)
		}
	})
}
