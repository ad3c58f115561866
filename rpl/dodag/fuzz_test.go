package dodag

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// FuzzInput feeds arbitrary RPL control messages (whatever rplmsg decodes)
// to a joined node and to a root, from a link-local and from a global
// source: no panic, and the state stays consistent.
func FuzzInput(f *testing.F) {
	for _, v := range []string{vector04, vector05, "9b000000" + "0000", "9b03000000" + "00f100"} {
		b, _ := hex.DecodeString(v)
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, global bool) {
		m, _, err := rplmsg.Decode(b)
		if err != nil {
			return
		}
		src := cooja1LL
		if global {
			src = netip.MustParseAddr("fd00::202:2:2:2")
		}
		node := joinVia(t, Config{Seed: 1})
		root := newRig(t, Config{Root: true, Prefix: contikiPf}, cooja1)
		other := ieee802154.Ext(ieee802154.ExtAddr{0, 2, 0, 2, 0, 2, 0, 2})
		for _, r := range []*rig{node, root} {
			r.input(m, src, netip.MustParseAddr("ff02::1a"), other)
			r.input(m, src, cooja1G, cooja1)
			r.clk.Advance(30 * time.Second)
			st := r.status()
			if st.Joined && st.Root == false && st.Parent.IsValid() && st.Rank == 0xffff {
				t.Fatalf("joined with a parent at infinite rank: %+v", st)
			}
		}
	})
}
