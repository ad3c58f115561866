package gatewayauth

import (
	"bytes"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// holdingConn is the relay's socket to the TS: after a datagram leaves,
// WriteTo returns only once release is closed. A relay that counts after
// Forward returns is thereby still uncounted when the TS's answer is
// delivered, which a fast TS or a busy host can always bring about.
type holdingConn struct {
	net.PacketConn
	release chan struct{}
}

func (c *holdingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, a)
	if err == nil {
		select {
		case <-c.release:
		case <-time.After(waitFor): // a failure bound, not pacing
		}
	}
	return n, err
}

func keyRequest(t *testing.T, name string) *mqttsn.TSKeyRequest {
	t.Helper()
	nonce, mac := make([]byte, mqttsn.TSNonceLen), make([]byte, mqttsn.TSMACLen)
	_, _ = rand.Read(nonce)
	_, _ = rand.Read(mac)
	return &mqttsn.TSKeyRequest{Suite: 1, Nonce: nonce, Name: []byte(name), Group: []byte("ward-3"), MAC: mac}
}

// A TS-KEYREQ is counted as relayed before it leaves: the TS's answer,
// however fast, finds the count already made (a count-based test or rate
// limit sees every answered request counted). Before the fix the count
// came after Forward returned, and the answer delivered meanwhile saw 0.
func TestKeyRelayCountsBeforeTheAnswer(t *testing.T) {
	tsConn := listen(t)
	hc := &holdingConn{PacketConn: listen(t), release: make(chan struct{})}
	tsc, err := tsclient.NewClient(tsclient.ClientConfig{TS: tsConn.LocalAddr(), Conn: hc,
		Clock: clock.NewVirtual(time.Unix(1_700_000_000, 0))})
	if err != nil {
		t.Fatal(err)
	}
	defer tsc.Close()
	r := &KeyRelay{Client: tsc}
	handle := r.Extensions()[byte(mqttsn.TypeTSKeyRequest)]

	type seen struct {
		resp             *mqttsn.TSKeyResponse
		relayed, refused uint64
	}
	answers := make(chan seen, 4)
	req := keyRequest(t, "node-7")
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		handle(&gateway.ExtensionRequest{Msg: req, ClientID: "node-7", Addr: hc.LocalAddr(),
			Reply: func(m mqttsn.Message) error {
				relayed, refused := r.Stats()
				answers <- seen{m.(*mqttsn.TSKeyResponse), relayed, refused}
				close(hc.release) // the request's send may return now
				return nil
			}})
	}()

	// The TS: read the forwarded request, answer it.
	_ = tsConn.SetReadDeadline(time.Now().Add(waitFor))
	buf := make([]byte, 2048)
	n, from, err := tsConn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("the request did not reach the TS: %v", err)
	}
	m, _, err := mqttsn.Decode(buf[:n])
	got, ok := m.(*mqttsn.TSKeyRequest)
	if err != nil || !ok || !bytes.Equal(got.Nonce, req.Nonce) {
		t.Fatalf("the TS got %#v (%v)", m, err)
	}
	tsNonce := make([]byte, mqttsn.TSNonceLen)
	_, _ = rand.Read(tsNonce)
	resp := &mqttsn.TSKeyResponse{Status: mqttsn.TSOK, KeyID: 9, ReqNonce: got.Nonce, TSNonce: tsNonce,
		Name: got.Name, Group: got.Group, Sealed: []byte("wrapped")}
	b, err := mqttsn.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tsConn.WriteTo(b, from); err != nil {
		t.Fatal(err)
	}

	var a seen
	select {
	case a = <-answers:
	case <-time.After(waitFor):
		t.Fatal("the answer was not relayed back")
	}
	<-handled
	if a.resp.KeyID != 9 || !bytes.Equal(a.resp.ReqNonce, req.Nonce) {
		t.Fatalf("relayed answer %#v", a.resp)
	}
	if a.relayed != 1 || a.refused != 0 {
		t.Fatalf("when the answer came: relayed %d, refused %d; want 1, 0", a.relayed, a.refused)
	}
	if relayed, refused := r.Stats(); relayed != 1 || refused != 0 {
		t.Fatalf("afterwards: relayed %d, refused %d; want 1, 0", relayed, refused)
	}
}

// A request the relay cannot send (the TS client is closed) is counted
// refused, not relayed.
func TestKeyRelayFailedSendIsNotCounted(t *testing.T) {
	tsc, err := tsclient.NewClient(tsclient.ClientConfig{TS: listen(t).LocalAddr(), Conn: listen(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := tsc.Close(); err != nil {
		t.Fatal(err)
	}
	r := &KeyRelay{Client: tsc}
	replied := false
	r.Handle(&gateway.ExtensionRequest{Msg: keyRequest(t, "node-7"), ClientID: "node-7",
		Reply: func(mqttsn.Message) error { replied = true; return nil }})
	if relayed, refused := r.Stats(); relayed != 0 || refused != 1 || replied {
		t.Fatalf("relayed %d, refused %d, replied %v; want 0, 1, false", relayed, refused, replied)
	}
}
