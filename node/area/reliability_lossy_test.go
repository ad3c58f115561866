package area_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// TestReliabilityLossyRadio is docs/reliability.md's "lossy radio" promise:
// with 30% of frame deliveries dropped by the medium (on top of nothing
// else), QoS 1 MQTT-SN traffic from one- and two-hop nodes over the RPL mesh
// (rpl/stack UDP → border router → gateway → embedded broker) is delivered
// completely, and the DODAG forms and stays formed. Every layer with retries
// takes part: 802.15.4 frame retries, RPL DIO/DAO retries, MQTT-SN Tretry,
// and the application publishing again what the client could not get
// acknowledged. Everything runs on one virtual clock.
func TestReliabilityLossyRadio(t *testing.T) {
	const (
		loss    = 0.30
		perNode = 50
	)
	// Two nodes one hop from the router, two more two hops away (range 50 m).
	r := newReliabilityRig(t, medium.Config{Range: 50, Seed: 10, Loss: loss},
		medium.Position{X: 30}, medium.Position{Y: 30}, medium.Position{X: 70}, medium.Position{Y: 70})
	if ok, err := r.drv.RunUntil(r.ctx, r.formed, 10*time.Minute); err != nil || !ok {
		t.Fatalf("DODAG not formed under %.0f%% loss after 10 virtual minutes (err %v)", loss*100, err)
	}
	formedAt := r.v.Now()

	r.dial("lossy", 20000)
	reading := func(i, k int) (string, string) { return fmt.Sprintf("ward/%d", i), fmt.Sprintf("n%d-%03d", i, k) }
	p, err := r.publish(2*time.Hour, perNode, reading)
	if err != nil {
		t.Fatalf("publishing under loss: %v (accepted %d)", err, p.accepted)
	}
	if err := r.delivered(r.readings(perNode, reading)); err != nil {
		t.Error(err)
	}
	if !r.formed() {
		t.Errorf("DODAG no longer formed after the traffic")
	}
	ms := r.a.Medium.Stats()
	var retrans, timeouts, macRetries, macFailed uint64
	for _, n := range append(r.nodes, r.a.Router.Stack()) {
		c := n.Counters()
		macRetries += c.MACRetries
		macFailed += c.MACTxFailed
	}
	if macRetries == 0 {
		t.Errorf("no MAC retries: the medium's loss was not applied")
	}
	for _, c := range r.clients {
		s := c.Stats()
		retrans += s.Retransmissions
		timeouts += s.Timeouts
	}
	got, dups := r.received()
	t.Logf("loss %.0f%%: DODAG formed after %v; %d readings accepted of %d, %d distinct at the subscriber (%d duplicates); "+
		"MAC retries %d, MAC give-ups %d, MQTT-SN retransmissions %d, timeouts %d, app re-publishes %d, reconnects %d; %d frames on the air; virtual time %v",
		loss*100, formedAt.Sub(rigEpoch), p.accepted, len(r.clients)*perNode, got, dups,
		macRetries, macFailed, retrans, timeouts, p.republish, p.reconnects, ms.Frames, r.v.Now().Sub(rigEpoch))
}
