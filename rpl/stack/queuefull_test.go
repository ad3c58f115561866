package stack

import (
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/dodag"
)

// TestRootQueueFullIsNotALinkFailure: a root whose MAC queue overflows
// drops the datagrams it cannot queue (counted), but that says nothing
// about the link to the neighbour, so it must not report a route error
// and lose its route to a whole subtree (found in rpl/border's exchange
// tests, where a burst of replies overflowed the root's 32-frame queue and
// the root dropped the route to a direct neighbour and everything below).
func TestRootQueueFullIsNotALinkFailure(t *testing.T) {
	root := Config{TxQueue: 2, RPL: dodag.Config{Root: true, Prefix: testPrefix}}
	n := newDutyNet(t, dnode{0, root}, dnode{40, Config{}})
	n.waitJoined(t, 1)
	leaf := n.waitRoute(t, 1)
	cr, err := n.s[0].ListenUDP(1000)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		for i := range 12 {
			if _, err := cr.WriteToAddrPort([]byte{byte(round), byte(i)}, netip.AddrPortFrom(leaf, 2000)); err != nil {
				t.Fatal(err)
			}
		}
		n.clk.Advance(time.Second)
	}
	c := n.s[0].Counters()
	if c.MACQueueDrops == 0 {
		t.Fatalf("the root's 2-frame queue never overflowed: %+v", c)
	}
	found := false
	for _, r := range n.s[0].Routes() {
		found = found || r.Target == leaf
	}
	if !found {
		t.Fatalf("after %d datagrams dropped on the root's full queue (no frame failed on the air: %d MAC failures), the root lost its route to its neighbour %v",
			c.MACQueueDrops, c.MACTxFailed, leaf)
	}
	if c.MACTxFailed != 0 {
		t.Errorf("%d frames failed on a lossless link", c.MACTxFailed)
	}
}
