package handoverclient_test

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// A QoS 1 publish in flight when the node moves goes out again at the
// visited gateway right behind HO-RESUME, before HO-RESUMED: it does not
// wait for the answer (on a duty-cycled radio a downlink wait, up to a
// channel-check interval). The scripted visited gateway answers HO-RESUME
// only once it has the PUBLISH, so a node that waited would time out.
func TestInflightPublishFollowsResume(t *testing.T) {
	n, A, B, ctx := connectedAtScripted(t, "p10", nil)
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
