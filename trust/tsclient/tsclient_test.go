package tsclient

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCredentialsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "z1-7.cred")
	c := &Credentials{Name: "z1-7", Kind: "node", PSS: bytes.Repeat([]byte{0xab}, 16), Sender: 7, Group: "p7", TS: "127.0.0.1:1884"}
	if err := SaveCredentials(path, c, false); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := SaveCredentials(path, c, false); !errors.Is(err, os.ErrExist) {
		t.Fatalf("overwrite without asking: %v", err)
	}
	got, err := LoadCredentials(path)
	if err != nil || got.Name != c.Name || got.Sender != 7 || got.Group != "p7" || got.TS != c.TS || !bytes.Equal(got.PSS, c.PSS) {
		t.Fatalf("loaded %+v %v", got, err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadCredentials(path); !errors.Is(err, ErrCredentialMode) {
		t.Fatalf("world-readable file accepted: %v", err)
	}
	// Overwriting fixes the mode.
	if err := SaveCredentials(path, c, true); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after overwrite %v", fi.Mode())
	}
	if err := SaveCredentials(path, &Credentials{Name: "x", PSS: []byte{1}}, true); err == nil {
		t.Fatal("short PSS saved")
	}
}

// TestRetransmission: the request is sent again when the virtual clock
// passes RetryInterval, and the answer to the retransmission is accepted.
func TestRetransmission(t *testing.T) {
	ts, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	clk := clock.NewVirtual(time.Unix(0, 0))
	c, err := NewClient(ClientConfig{TS: ts.LocalAddr(), Clock: clk, RetryInterval: time.Second, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	nonce := bytes.Repeat([]byte{7}, 16)
	req := &mqttsn.TSChallenge{Challenge: nonce, Gateway: []byte("gw")} // any message will do
	done := make(chan error, 1)
	go func() {
		done <- c.RoundTrip(context.Background(), req, nonce, func(m mqttsn.Message) (bool, error) {
			return true, nil
		})
	}()
	buf := make([]byte, 512)
	n, from, err := ts.ReadFrom(buf) // first transmission: ignored
	if err != nil || !bytes.Equal(buf[2:18], nonce) {
		t.Fatalf("first: %d %v", n, err)
	}
	// Fire the retransmission timer once it is armed (it is armed just
	// after the first datagram left, so wait for it to exist).
	for {
		if when, ok := clk.Next(); ok {
			clk.AdvanceTo(when)
			break
		}
		runtime.Gosched()
	}
	if _, _, err := ts.ReadFrom(buf); err != nil || !bytes.Equal(buf[2:18], nonce) {
		t.Fatalf("retransmission: %v", err)
	}
	resp := &mqttsn.TSAdmitResponse{Challenge: nonce, ClientID: []byte("c"), Group: []byte("g"), MAC: make([]byte, 16)}
	b, _ := resp.AppendBinary(nil)
	ts.WriteTo(b, from)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestClientIgnoresOtherSources: an answer with the right nonce from
// another address, and a non-answer from the TS, are dropped; the TS's
// answer is taken.
func TestClientIgnoresOtherSources(t *testing.T) {
	ts, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer ts.Close()
	own, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer own.Close()
	c, err := NewClient(ClientConfig{TS: ts.LocalAddr(), Conn: own})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	other, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer other.Close()
	nonce := bytes.Repeat([]byte{5}, 16)
	resp := &mqttsn.TSAdmitResponse{Challenge: nonce, ClientID: []byte("c"), Group: []byte("g"), MAC: make([]byte, 16)}
	answer, _ := resp.AppendBinary(nil)
	calls := 0
	done := make(chan error, 1)
	go func() {
		done <- c.RoundTrip(context.Background(), &mqttsn.TSChallenge{Challenge: nonce, Gateway: []byte("gw")}, nonce,
			func(m mqttsn.Message) (bool, error) { calls++; return true, nil })
	}()
	buf := make([]byte, 512)
	if _, _, err := ts.ReadFrom(buf); err != nil {
		t.Fatal(err)
	}
	other.WriteTo(answer, own.LocalAddr())          // right nonce, wrong source
	ts.WriteTo([]byte{0x02, 0x17}, own.LocalAddr()) // from the TS, not an answer
	ts.WriteTo(answer, own.LocalAddr())
	if err := <-done; err != nil || calls != 1 {
		t.Fatalf("round trip: %v, accept called %d times", err, calls)
	}
	if d := c.Dropped(); d != 2 {
		t.Fatalf("dropped %d, want 2", d)
	}
}
