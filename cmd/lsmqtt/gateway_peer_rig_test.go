package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// The rig of the tests with gateways that are separate processes
// (cmd_gateway_peer_test.go, cmd_gateway_peer_kill_test.go): the lsmqtt
// binary built by the test, `lsmqtt gateway --peer` processes on their own
// addresses, a caregiver on every embedded broker, and a handover node
// whose radio reaches only the gateway it is near.

// buildOnce builds the command once per test binary.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func lsmqttBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the lsmqtt binary; skipped in -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lsmqtt-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "lsmqtt")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// freePort returns a UDP or TCP port free on ip right now.
func freePort(t *testing.T, network, ip string) int {
	t.Helper()
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

func peerKeysFile(t *testing.T, names ...string) string {
	t.Helper()
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	var sb strings.Builder
	for _, n := range names {
		fmt.Fprintf(&sb, "%s %s\n", n, hex.EncodeToString(k))
	}
	path := filepath.Join(t.TempDir(), "peers.keys")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// gwProc is one gateway process and where to reach it.
type gwProc struct {
	name       string
	sn, mqtt   string // MQTT-SN UDP and embedded MQTT TCP addresses
	peerListen string // its peer socket, as it binds it
	peerAddr   string // its peer socket, as the other gateway reaches it
	prefix     []string
}

// loopbackGateway is a gateway called name on ip (a loopback address) with
// ports free now.
func loopbackGateway(t *testing.T, name, ip string) gwProc {
	t.Helper()
	p := net.JoinHostPort(ip, strconv.Itoa(freePort(t, "udp", ip)))
	return gwProc{name: name, sn: net.JoinHostPort(ip, strconv.Itoa(freePort(t, "udp", ip))),
		mqtt: net.JoinHostPort(ip, strconv.Itoa(freePort(t, "tcp", ip))), peerListen: p, peerAddr: p}
}

// startGatewayProcess runs `lsmqtt gateway --open --peer …` (behind
// g.prefix) and waits for "gateway running". The process is returned for
// the test to kill; at cleanup it is interrupted (killed if it does not
// end within gwWait), and its log is shown if the test failed.
func startGatewayProcess(t *testing.T, bin string, g gwProc, peer gwProc, keys string) *exec.Cmd {
	t.Helper()
	args := append(append([]string(nil), g.prefix...), bin, "--log-level", "info", "gateway", "--open",
		"--listen", g.sn, "--mqtt-listen", g.mqtt, "--name", g.name,
		"--peer", peer.name+"="+peer.peerAddr, "--peer-listen", g.peerListen, "--peer-keys", keys,
		"--advertise-interval", "-1s")
	cmd := exec.Command(args[0], args[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready, exited := make(chan struct{}), make(chan struct{})
	var logMu sync.Mutex
	var logs []string
	showLog := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Join(logs, "\n")
	}
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			logMu.Lock()
			logs = append(logs, sc.Text())
			logMu.Unlock()
			if !seen && strings.Contains(sc.Text(), "gateway running") {
				seen = true
				close(ready)
			}
		}
		_ = cmd.Wait() // after the last read of its stderr
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(gwWait):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", g.name, showLog())
		}
	})
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("%s exited at start:\n%s", g.name, showLog())
	case <-time.After(3 * gwWait):
		t.Fatalf("%s did not start:\n%s", g.name, showLog())
	}
	return cmd
}

// caregiver is an MQTT subscriber to ward/# on the embedded broker of every
// gateway, recording which gateway delivered which "seq=N".
type caregiver struct {
	mu   sync.Mutex
	got  []seqRec
	more chan struct{}
}

// seqRec is one message the caregiver got: seq through gateway gw.
type seqRec struct {
	gw  string
	seq int
}

func newCaregiver(t *testing.T, gws ...gwProc) *caregiver {
	t.Helper()
	cg := &caregiver{more: make(chan struct{}, 1)}
	for _, g := range gws {
		conn, err := net.DialTimeout("tcp", g.mqtt, gwWait)
		if err != nil {
			t.Fatal(err)
		}
		name := g.name
		c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				i, _ := strconv.Atoi(strings.TrimPrefix(string(pr.Packet.Payload), "seq="))
				cg.mu.Lock()
				cg.got = append(cg.got, seqRec{name, i})
				cg.mu.Unlock()
				select {
				case cg.more <- struct{}{}:
				default:
				}
				return true, nil
			}}})
		ctx, cancel := context.WithTimeout(context.Background(), gwWait)
		if _, err := c.Connect(ctx, &paho.Connect{ClientID: "caregiver", CleanStart: true, KeepAlive: 60}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "ward/#", QoS: 1}}}); err != nil {
			t.Fatal(err)
		}
		cancel()
		t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}); <-c.Done() })
	}
	return cg
}

// wait fails the test unless the caregiver has got n messages within d.
func (cg *caregiver) wait(t *testing.T, n int, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		cg.mu.Lock()
		have := len(cg.got)
		cg.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-cg.more:
		case <-deadline:
			t.Fatalf("caregiver got %d of %d", have, n)
		}
	}
}

// records returns a copy of what the caregiver got so far.
func (cg *caregiver) records() []seqRec {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	return append([]seqRec(nil), cg.got...)
}

// airConn reaches only the gateway the node is near.
type airConn struct {
	net.PacketConn
	mu sync.Mutex
	in string
}

func (a *airConn) enter(addr string) { a.mu.Lock(); a.in = addr; a.mu.Unlock() }
func (a *airConn) near(addr net.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return addr.String() == a.in
}

func (a *airConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if !a.near(addr) {
		return len(b), nil
	}
	return a.PacketConn.WriteTo(b, addr)
}

func (a *airConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := a.PacketConn.ReadFrom(b)
		if err != nil || a.near(addr) {
			return n, addr, err
		}
	}
}

// walker is the handover node "walker" on nodeIP, near home, connected
// there and holding its handover token (within ctx), publishing to
// ward/walker/hr. It is closed when the test ends.
func walker(ctx context.Context, t *testing.T, nodeIP string, home net.Addr) (*handoverclient.Node, *airConn) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(nodeIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	air := &airConn{PacketConn: pc}
	air.enter(home.String())
	n := handoverclient.New(air, home, handoverclient.Config{
		Client: client.Config{ClientID: "walker", KeepAlive: 5 * time.Minute, RetryInterval: 2 * time.Second},
		Topics: []string{"ward/walker/hr"},
	})
	t.Cleanup(func() { n.Close() })
	if err := n.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitToken(ctx); err != nil {
		t.Fatal(err)
	}
	return n, air
}
