package stack

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// nopRadio records nothing and delivers nothing.
type nopRadio struct{ sent int }

func (r *nopRadio) Transmit([]byte) error       { r.sent++; return nil }
func (r *nopRadio) SetReceiver(medium.Receiver) {}
func (r *nopRadio) Close() error                { return nil }

// FuzzFrameInput drives a border router's stack (the node with the most
// paths: SRH insertion, DAO handling, ICMPv6 errors) with arbitrary frame
// payloads from a neighbour, and with arbitrary PSDUs: no panic, nothing
// sent that is not a valid frame.
func FuzzFrameInput(f *testing.F) {
	peer := ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 0, 9})
	me := ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 0, 1}
	prefix := netip.MustParsePrefix("fd00:1::/64")
	ctx := &lowpan.ContextTable{prefix}
	// Seeds: a UDP datagram to the root, a DIS, a DAO and an SRH packet,
	// all IPHC-compressed as a neighbour would send them.
	src := lowpan.AddrFromPrefix(prefix, peer)
	dst := lowpan.AddrFromPrefix(prefix, ieee802154.Ext(me))
	udp, _ := ipv6.AppendUDPPacket(nil, netip.AddrPortFrom(src, 5000), netip.AddrPortFrom(dst, 1883), 64, []byte("\x07\x0c\x00\x00\x01\x00\x01"))
	seed := func(pkt []byte, l2dst ieee802154.Address) {
		b, err := lowpan.AppendPacket(nil, pkt, peer, l2dst, ctx)
		if err == nil {
			f.Add(b, false)
		}
	}
	seed(udp, ieee802154.Ext(me))
	dis, _ := hex.DecodeString("6000000000063aff" + "fe800000000000000000000000000009" + "ff02000000000000000000000000001a" + "9b000000" + "0000")
	seed(dis, ieee802154.Broadcast)
	srh := make([]byte, 0, 96)
	h := ipv6.Header{NextHeader: ipv6.ProtoRouting, HopLimit: 64, Src: src, Dst: dst}
	srh, _ = h.AppendBinary(srh)
	sr := rplmsg.NewSourceRoute(ipv6.ProtoUDP, dst, []netip.Addr{src})
	srh, _ = sr.AppendBinary(srh)
	srh = append(srh, 0x13, 0x88, 0x07, 0x5b, 0, 8, 0, 0)
	srh[5] = byte(len(srh) - 40)
	seed(srh, ieee802154.Ext(me))
	f.Add([]byte{0xc0, 0x80, 0x00, 0x01, 0x7a}, false)
	f.Add([]byte{0x41, 0x60}, true)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		v := clock.NewVirtual(epoch)
		radio := &nopRadio{}
		s, err := New(Config{Addr: me, Radio: radio, Clock: v, RPL: dodag.Config{Root: true, Prefix: prefix}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		psdu := data
		if !raw {
			fr := ieee802154.DataFrame(1, DefaultPAN, ieee802154.Ext(me), peer, data, true)
			if psdu, err = fr.AppendBinary(nil); err != nil {
				return
			}
		}
		s.mu.Lock()
		s.macInput(psdu)
		s.mu.Unlock()
		v.Advance(time.Second)
	})
}
