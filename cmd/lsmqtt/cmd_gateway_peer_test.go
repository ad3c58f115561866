package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Handover between gateways that are separate processes: the lsmqtt binary
// built by the test, two `lsmqtt gateway --peer` processes on their own
// addresses, a caregiver on both embedded brokers and a node that walks
// between them publishing QoS 1 (the rig: gateway_peer_rig_test.go).

// walkBetween runs the scenario against two running gateways: a node that
// walks A→B→A… publishing QoS 1; the caregiver must receive every message,
// each gateway's stream in order.
func walkBetween(t *testing.T, nodeIP string, a, b gwProc) {
	t.Helper()
	cg := newCaregiver(t, a, b)
	gws := []gwProc{a, b}
	addrs := make([]net.Addr, 2)
	for i, g := range gws {
		var err error
		if addrs[i], err = net.ResolveUDPAddr("udp4", g.sn); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*gwWait)
	defer cancel()
	n, air := walker(ctx, t, nodeIP, addrs[0])
	const total, every = 120, 20
	cur := 0
	for i := 1; i <= total; i++ {
		if i%every == 0 {
			cur = 1 - cur
			air.enter(addrs[cur].String())
			if res := n.Move(ctx, addrs[cur]); !res.Resumed || res.Err != nil {
				t.Fatalf("move to %s: %+v", gws[cur].name, res)
			}
		}
		if err := n.Publish(ctx, "ward/walker/hr", mqttsn.QoS1, false, []byte(fmt.Sprintf("seq=%d", i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	cg.wait(t, total, gwWait)
	seen := map[int]bool{}
	last := map[string]int{}
	for _, r := range cg.records() {
		if seen[r.seq] {
			continue
		}
		seen[r.seq] = true
		if r.seq < last[r.gw] {
			t.Errorf("%s: seq %d after %d", r.gw, r.seq, last[r.gw])
		}
		last[r.gw] = r.seq
		if want := gws[(r.seq/every)%2].name; r.gw != want {
			t.Errorf("seq %d through %s, want %s", r.seq, r.gw, want)
		}
	}
	for i := 1; i <= total; i++ {
		if !seen[i] {
			t.Errorf("seq %d lost", i)
		}
	}
	if st := n.Stats(); st.FullConnects != 1 || st.Resumes != total/every {
		t.Errorf("node stats %+v", st)
	}
}

// TestHandoverProcessesLoopback: the gateways on 127.0.0.2 and 127.0.0.3.
func TestHandoverProcessesLoopback(t *testing.T) {
	bin := lsmqttBinary(t)
	keys := peerKeysFile(t, "gw-a", "gw-b")
	a, b := loopbackGateway(t, "gw-a", "127.0.0.2"), loopbackGateway(t, "gw-b", "127.0.0.3")
	startGatewayProcess(t, bin, a, b, keys)
	startGatewayProcess(t, bin, b, a, keys)
	walkBetween(t, "127.0.0.1", a, b)
}

// TestHandoverProcessesNetns: each gateway in its own network namespace,
// joined to the test's namespace and to each other by veth links the test
// creates and removes. Needs root and iproute2: skipped loudly outside CI
// without them, failed in CI.
func TestHandoverProcessesNetns(t *testing.T) {
	ipBin := testutil.NeedTool(t, "ip")
	if os.Geteuid() != 0 {
		if testutil.InCI() {
			t.Fatal("CI=true: this test needs root (network namespaces)")
		}
		t.Skip("SKIPPING: network namespaces need root; run as root or in CI (.ci/run)")
	}
	bin := lsmqttBinary(t)
	suffix := strconv.Itoa(os.Getpid() % 100000)
	nsA, nsB := "lsho-a-"+suffix, "lsho-b-"+suffix
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cleanup := func() {
		for _, ns := range []string{nsA, nsB} {
			_ = exec.Command(ipBin, "netns", "del", ns).Run()
		}
		for _, l := range []string{"lsa" + suffix, "lsb" + suffix} {
			_ = exec.Command(ipBin, "link", "del", l).Run()
		}
	}
	cleanup()
	t.Cleanup(cleanup)
	ip("netns", "add", nsA)
	ip("netns", "add", nsB)
	// test ns ↔ A: 10.77.1.0/30; test ns ↔ B: 10.77.2.0/30; A ↔ B: 10.77.3.0/30.
	link := func(here, hereNS, hereIP, there, thereNS, thereIP string) {
		ip("link", "add", here, "type", "veth", "peer", "name", there)
		for _, e := range []struct{ dev, ns, addr string }{{here, hereNS, hereIP}, {there, thereNS, thereIP}} {
			if e.ns != "" {
				ip("link", "set", e.dev, "netns", e.ns)
				ip("-n", e.ns, "addr", "add", e.addr+"/30", "dev", e.dev)
				ip("-n", e.ns, "link", "set", e.dev, "up")
				ip("-n", e.ns, "link", "set", "lo", "up")
			} else {
				ip("addr", "add", e.addr+"/30", "dev", e.dev)
				ip("link", "set", e.dev, "up")
			}
		}
	}
	link("lsa"+suffix, "", "10.77.1.1", "lsa"+suffix+"p", nsA, "10.77.1.2")
	link("lsb"+suffix, "", "10.77.2.1", "lsb"+suffix+"p", nsB, "10.77.2.2")
	link("lsab"+suffix, nsA, "10.77.3.1", "lsba"+suffix, nsB, "10.77.3.2")
	keys := peerKeysFile(t, "gw-a", "gw-b")
	// Fresh namespaces: nothing else binds there, so the ports are ours.
	a := gwProc{name: "gw-a", sn: "10.77.1.2:1883", mqtt: "10.77.1.2:1883", peerListen: "10.77.3.1:1884",
		peerAddr: "10.77.3.1:1884", prefix: []string{ipBin, "netns", "exec", nsA}}
	b := gwProc{name: "gw-b", sn: "10.77.2.2:1883", mqtt: "10.77.2.2:1883", peerListen: "10.77.3.2:1884",
		peerAddr: "10.77.3.2:1884", prefix: []string{ipBin, "netns", "exec", nsB}}
	startGatewayProcess(t, bin, a, b, keys)
	startGatewayProcess(t, bin, b, a, keys)
	walkBetween(t, "0.0.0.0", a, b)
}
