package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// runGatewayProc runs `lsmqtt gateway --open --peer …` and waits for
// "gateway running"; the process is returned for the test to kill. It is
// killed at cleanup if it still runs.
func runGatewayProc(t *testing.T, bin string, g gwProc, peer gwProc, keys string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "--log-level", "info", "gateway", "--open",
		"--listen", g.sn, "--mqtt-listen", g.mqtt, "--name", g.name,
		"--peer", peer.name+"="+peer.peerAddr, "--peer-listen", g.peerListen, "--peer-keys", keys,
		"--advertise-interval", "-1s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			if !seen && strings.Contains(sc.Text(), "gateway running") {
				seen = true
				close(ready)
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("%s exited at start", g.name)
	case <-time.After(3 * gwWait):
		t.Fatalf("%s did not start", g.name)
	}
	return cmd
}

// TestHandoverHomeProcessKilled: the home gateway's process is SIGKILLed at
// the moment the visited gateway's HO-FETCH reaches it (a relay on the
// peer link kills it and drops the datagram). The node, which published
// seq 1..10 at home and publishes seq 11 right behind its HO-RESUME, falls
// back to a full connect at the visited gateway and publishes 11..20
// there: the caregiver, subscribed on both embedded brokers, counts every
// sequence number, through the gateway the node was at.
func TestHandoverHomeProcessKilled(t *testing.T) {
	bin := lsmqttBinary(t)
	keys := peerKeysFile(t, "gw-a", "gw-b")
	mk := func(name, ip string) gwProc {
		p := net.JoinHostPort(ip, strconv.Itoa(freePort(t, "udp", ip)))
		return gwProc{name: name, sn: net.JoinHostPort(ip, strconv.Itoa(freePort(t, "udp", ip))),
			mqtt: net.JoinHostPort(ip, strconv.Itoa(freePort(t, "tcp", ip))), peerListen: p, peerAddr: p}
	}
	a, b := mk("gw-a", "127.0.0.2"), mk("gw-b", "127.0.0.3")
	// B reaches A through the relay.
	relay, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	aPeer, err := net.ResolveUDPAddr("udp4", a.peerListen)
	if err != nil {
		t.Fatal(err)
	}
	aViaRelay := a
	aViaRelay.peerAddr = relay.LocalAddr().String()
	procA := runGatewayProc(t, bin, a, b, keys)
	runGatewayProc(t, bin, b, aViaRelay, keys)
	killed := make(chan struct{})
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := relay.ReadFrom(buf)
			if err != nil {
				return
			}
			if h, err := mqttsn.ReadHeader(buf[:n]); err == nil && h.Type == mqttsn.TypeHOFetch {
				_ = procA.Process.Signal(syscall.SIGKILL)
				close(killed)
				return // the fetch dies with the home
			}
			_, _ = relay.WriteTo(buf[:n], aPeer)
		}
	}()

	type rec struct {
		gw  string
		seq int
	}
	var mu sync.Mutex
	var got []rec
	more := make(chan struct{}, 1)
	for _, g := range []gwProc{a, b} {
		conn, err := net.DialTimeout("tcp", g.mqtt, gwWait)
		if err != nil {
			t.Fatal(err)
		}
		name := g.name
		c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				i, _ := strconv.Atoi(strings.TrimPrefix(string(pr.Packet.Payload), "seq="))
				mu.Lock()
				got = append(got, rec{name, i})
				mu.Unlock()
				select {
				case more <- struct{}{}:
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
	waitGot := func(n int) {
		t.Helper()
		deadline := time.After(3 * gwWait)
		for {
			mu.Lock()
			have := len(got)
			mu.Unlock()
			if have >= n {
				return
			}
			select {
			case <-more:
			case <-deadline:
				t.Fatalf("caregiver got %d of %d", have, n)
			}
		}
	}

	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	air := &airConn{PacketConn: pc}
	aAddr, _ := net.ResolveUDPAddr("udp4", a.sn)
	bAddr, _ := net.ResolveUDPAddr("udp4", b.sn)
	air.enter(aAddr.String())
	n := handoverclient.New(air, aAddr, handoverclient.Config{
		Client: client.Config{ClientID: "walker", KeepAlive: 5 * time.Minute, RetryInterval: 2 * time.Second},
		Topics: []string{"ward/walker/hr"},
	})
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 6*gwWait)
	defer cancel()
	if err := n.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitToken(ctx); err != nil {
		t.Fatal(err)
	}
	const total, atHome = 20, 10
	publish := func(i int) error {
		return n.Publish(ctx, "ward/walker/hr", mqttsn.QoS1, false, []byte(fmt.Sprintf("seq=%d", i)))
	}
	for i := 1; i <= atHome; i++ {
		if err := publish(i); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	waitGot(atHome) // delivered at home before the home dies

	air.enter(bAddr.String())
	moved := make(chan handoverclient.Result, 1)
	go func() { moved <- n.Move(ctx, bAddr) }()
	// Sent right behind HO-RESUME (the node does not wait for HO-RESUMED).
	if err := publish(atHome + 1); err != nil {
		t.Fatalf("publish %d across the move: %v", atHome+1, err)
	}
	select {
	case <-killed: // before publish 11 was acknowledged: B fetched first
	case <-time.After(gwWait):
		t.Fatal("the home was not killed: no HO-FETCH crossed the peer link")
	}
	res := <-moved
	if res.Resumed || res.Err != nil || res.Reason != mqttsn.HOUnreachable {
		t.Fatalf("move: %+v, want a full connect after 'home unreachable'", res)
	}
	for i := atHome + 2; i <= total; i++ {
		if err := publish(i); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	waitGot(total)
	st := n.Stats()
	mu.Lock()
	defer mu.Unlock()
	first := map[int]string{}
	dups := 0
	for _, r := range got {
		if _, ok := first[r.seq]; ok {
			dups++
			continue
		}
		first[r.seq] = r.gw
	}
	for i := 1; i <= total; i++ {
		want := b.name
		if i <= atHome {
			want = a.name
		}
		if first[i] != want {
			t.Errorf("seq %d through %q, want %s", i, first[i], want)
		}
	}
	if uint64(dups) > st.Republished {
		t.Errorf("%d duplicates, but only %d publishes were sent again", dups, st.Republished)
	}
	// One fallback: one full connect, or two when a publish sent behind
	// HO-RESUME reached B after it gave up on the resume and drew a
	// DISCONNECT in the middle of the connect.
	if st.FullConnects < 2 || st.FullConnects > 3 || st.Fallbacks != 1 {
		t.Errorf("node stats %+v: want one fallback to a full connect", st)
	}
	t.Logf("home process SIGKILLed at the HO-FETCH; caregiver: %d messages for %d sequence numbers (%d duplicates); node %+v", len(got), total, dups, st)
}
