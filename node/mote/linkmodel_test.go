package mote_test

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
)

// The UDP estimate must give the frames rpl/lowpan really builds for a
// datagram between a node and its neighbouring border router.
func TestLinkModelMatchesLowpan(t *testing.T) {
	prefix := netip.MustParsePrefix("fd00:1::/64")
	node := ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0x01, 0, 0, 0, 7})
	root := ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 1, 0, 0})
	src := netip.AddrPortFrom(lowpan.AddrFromPrefix(prefix, node), 50123)
	dst := netip.AddrPortFrom(lowpan.AddrFromPrefix(prefix, root), 1883)
	ctx := lowpan.ContextTable{0: prefix}
	f := lowpan.NewFragmenter(&ctx, 1)
	lm := mote.DefaultLinkModel()
	const macOverhead = 2 + 1 + 2 + 8 + 8 + 2
	for n := 0; n <= 1100; n++ {
		for _, dir := range []struct{ s, d netip.AddrPort }{{src, dst}, {dst, src}} {
			pkt, err := ipv6.AppendUDPPacket(nil, dir.s, dir.d, 64, bytes.Repeat([]byte{0x5a}, n))
			if err != nil {
				t.Fatal(err)
			}
			sa, da := node, root
			if dir.s == dst {
				sa, da = root, node
			}
			var got []int
			if err := f.Fragment(pkt, sa, da, 127-macOverhead, func(p []byte) error {
				got = append(got, len(p)+macOverhead)
				return nil
			}); err != nil {
				t.Fatal(n, err)
			}
			if want := lm.Frames(nil, n); !slices.Equal(got, want) {
				t.Fatalf("datagram of %d octets: lowpan frames %v, model %v", n, got, want)
			}
		}
	}
}
