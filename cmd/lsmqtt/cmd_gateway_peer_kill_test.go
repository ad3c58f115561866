package main

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

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
	a, b := loopbackGateway(t, "gw-a", "127.0.0.2"), loopbackGateway(t, "gw-b", "127.0.0.3")
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
	procA := startGatewayProcess(t, bin, a, b, keys)
	startGatewayProcess(t, bin, b, aViaRelay, keys)
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

	cg := newCaregiver(t, a, b)
	aAddr, _ := net.ResolveUDPAddr("udp4", a.sn)
	bAddr, _ := net.ResolveUDPAddr("udp4", b.sn)
	ctx, cancel := context.WithTimeout(context.Background(), 6*gwWait)
	defer cancel()
	n, air := walker(ctx, t, "127.0.0.1", aAddr)
	const total, atHome = 20, 10
	publish := func(i int) error {
		return n.Publish(ctx, "ward/walker/hr", mqttsn.QoS1, false, []byte(fmt.Sprintf("seq=%d", i)))
	}
	for i := 1; i <= atHome; i++ {
		if err := publish(i); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	cg.wait(t, atHome, 3*gwWait) // delivered at home before the home dies

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
	cg.wait(t, total, 3*gwWait)
	st := n.Stats()
	got := cg.records()
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
