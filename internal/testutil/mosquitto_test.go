package testutil

import (
	"net"
	"testing"
	"time"
)

// TestMosquitto: the broker accepts connections on its address, refuses
// them once killed, and accepts them again on the same address after
// Start; Stop is idempotent.
func TestMosquitto(t *testing.T) {
	for _, opts := range []MosquittoOptions{{}, {Persistence: true, MaxQueuedMessages: 10}} {
		m := Mosquitto(t, opts)
		dial := func() error {
			c, err := net.DialTimeout("tcp", m.Addr(), 10*time.Second)
			if err == nil {
				c.Close()
			}
			return err
		}
		if err := dial(); err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		m.Kill()
		if err := dial(); err == nil {
			t.Fatalf("%+v: killed mosquitto still accepts connections", opts)
		}
		m.Start()
		if err := dial(); err != nil {
			t.Fatalf("%+v: after restart: %v", opts, err)
		}
		m.Stop()
		m.Stop()
	}
}
