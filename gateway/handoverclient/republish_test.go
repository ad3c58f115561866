package handoverclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// A QoS 1 publish in flight when the node moves goes out again at the
// visited gateway right behind HO-RESUME, before HO-RESUMED: it does not
// wait for the answer (on a duty-cycled radio a downlink wait, up to a
// channel-check interval). The scripted visited gateway answers HO-RESUME
// only once it has the PUBLISH, so a node that waited would time out.
func TestInflightPublishFollowsResume(t *testing.T) {
	clk := clock.NewVirtual(epoch0)
	A, B := listenUDP(t), listenUDP(t)
	conn := listenUDP(t)
	n := handoverclient.New(conn.PacketConn, A.addr(), handoverclient.Config{
		Client: client.Config{ClientID: "p10", Clock: clk, KeepAlive: 10 * time.Minute, RetryInterval: 5 * time.Second},
		Topics: []string{"ward/p10/hr"},
	})
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	defer cancel()

	connected := async(func() error { return n.Connect(ctx) })
	A.connect(t, 1)
	if err := wait(t, connected); err != nil {
		t.Fatal(err)
	}
	A.send(t, &mqttsn.HOToken{Home: []byte("gw-a"), Token: make([]byte, 32)})
	if err := n.WaitToken(ctx); err != nil {
		t.Fatal(err)
	}
	pub := async(func() error { return n.Publish(ctx, "ward/p10/hr", mqttsn.QoS1, false, []byte("in flight")) })
	if _, ok := A.recv(t).(*mqttsn.Publish); !ok {
		t.Fatal("want the PUBLISH at A")
	}
	// A never acknowledges it: the node moves to B meanwhile.
	moved := make(chan handoverclient.Result, 1)
	go func() { moved <- n.Move(ctx, B.addr()) }()
	if _, ok := B.recv(t).(*mqttsn.HOResume); !ok {
		t.Fatal("want HO-RESUME first")
	}
	p, ok := B.recv(t).(*mqttsn.Publish)
	if !ok || string(p.Data) != "in flight" {
		t.Fatalf("want the PUBLISH in flight again, right behind HO-RESUME; got %+v", p)
	}
	B.send(t, &mqttsn.HOResumed{Status: mqttsn.HOAccepted, Home: []byte("gw-a"), Token: make([]byte, 32)})
	B.send(t, &mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID, ReturnCode: mqttsn.Accepted})
	if err := wait(t, pub); err != nil {
		t.Fatalf("publish: %v", err)
	}
	var res handoverclient.Result
	select {
	case res = <-moved:
	case <-time.After(waitFor):
		t.Fatal("the move did not end")
	}
	if res.Err != nil || !res.Resumed {
		t.Fatalf("move: %+v", res)
	}
	if st := n.Stats(); st.Republished != 1 {
		t.Errorf("node stats %+v: want the publish sent again once", st)
	}
}
