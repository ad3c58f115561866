package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// TestGatewaySocketsFlag: --sockets N opens N UDP sockets on one port
// (SO_REUSEPORT) and serves MQTT-SN on every one of them.
func TestGatewaySocketsFlag(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("several sockets on one port need SO_REUSEPORT (Linux)")
	}
	const n = 3
	info := startGatewayCmd(t, "--listen", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--sockets", fmt.Sprint(n))
	if len(info.UDP) != n {
		t.Fatalf("--sockets %d served %d sockets: %v", n, len(info.UDP), info.UDP)
	}
	for _, a := range info.UDP[1:] {
		if a.String() != info.UDP[0].String() {
			t.Fatalf("--sockets %d: not one port: %v", n, info.UDP)
		}
	}
	_, watched := mqttWatch(t, info.MQTT, "ward/#")
	ctx, cancel := context.WithTimeout(context.Background(), gwWait)
	defer cancel()
	// Several clients (source ports): the kernel spreads them over the
	// sockets; each is answered and its publish reaches the broker.
	const clients = 8
	for i := range clients {
		sn := snClient(t, info.UDP[0], fmt.Sprintf("sensor-%d", i), nil)
		if err := sn.Publish(ctx, client.Named(fmt.Sprintf("ward/%d/hr", i)), mqttsn.QoS1, false, []byte("72")); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	got := map[string]bool{}
	for len(got) < clients {
		select {
		case p := <-watched:
			got[p.Topic] = true
		case <-ctx.Done():
			t.Fatalf("the broker got %d of %d publishes: %v", len(got), clients, got)
		}
	}
}

func TestGatewaySocketsSettings(t *testing.T) {
	o, err := parseGatewayArgs()
	if err != nil || o.sockets != 1 {
		t.Fatalf("default --sockets: %v, %v", o, err)
	}
	t.Setenv("LSMQTT_GATEWAY_SOCKETS", "4")
	if o, err := parseGatewayArgs(); err != nil || o.sockets != 4 {
		t.Fatalf("LSMQTT_GATEWAY_SOCKETS=4: %+v, %v", o, err)
	}
	path := filepath.Join(t.TempDir(), "gw.toml")
	if err := os.WriteFile(path, []byte("sockets = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LSMQTT_GATEWAY_SOCKETS", "")
	os.Unsetenv("LSMQTT_GATEWAY_SOCKETS")
	if o, err := parseGatewayArgs("--config", path); err != nil || o.sockets != 2 {
		t.Fatalf("sockets = 2 in the config file: %+v, %v", o, err)
	}
	if _, err := parseGatewayArgs("--sockets", "0"); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Fatalf("--sockets 0: %v", err)
	}
}

// With --state and no --broker-client-id the broker client id is the same
// at every start (the broker session a restarted gateway resumes is that of
// the last run), and differs between state files.
func TestGatewayStateClientID(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	first, again := stateClientID(a), stateClientID(a)
	if first != again || !strings.HasPrefix(first, "lsmqtt-gw-") {
		t.Fatalf("not stable: %s, then %s", first, again)
	}
	if stateClientID(a) == stateClientID(b) {
		t.Fatalf("two state files share the client id %s", stateClientID(a))
	}
}
