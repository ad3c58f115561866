package stack

import (
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// maxPayload is the MAC payload room of a data frame from us to dst with
// PAN ID compression (IEEE 802.15.4-2006 §7.2.1): 127 minus frame control,
// sequence number, PAN id, addresses and FCS.
func (s *Stack) maxPayload(dst ieee802154.Address) int {
	return ieee802154.MaxPSDU - (2 + 1 + 2 + dst.Mode.Len() + s.lladdr.Mode.Len() + ieee802154.FCSLen)
}

// sendPacket compresses and, if needed, fragments an IPv6 packet to the
// neighbour next (or broadcast) and queues the frames. done (may be nil) is
// called once: ok when every frame was acknowledged (or broadcast);
// linkFailed when a frame went on the air and was never acknowledged. A
// frame the MAC dropped before trying (its queue full) or a packet that
// could not be fragmented fails without linkFailed: that says nothing about
// the link, so it must not make RPL drop a route or a parent.
func (s *Stack) sendPacket(pkt []byte, next ieee802154.Address, done func(ok, linkFailed bool)) {
	var frames [][]byte
	err := s.frag.Fragment(pkt, s.lladdr, next, s.maxPayload(next), func(p []byte) error {
		frames = append(frames, append([]byte(nil), p...))
		return nil
	})
	if err != nil {
		s.countBad("6lowpan out", err)
		if done != nil {
			done(false, false)
		}
		return
	}
	if len(frames) > 1 {
		s.cnt.FragmentedTx++
	}
	s.cnt.PacketsTx++
	remaining, failed, linkFailed := len(frames), false, false
	for _, f := range frames {
		s.enqueueFrame(next, f, func(acked bool, tries int) {
			remaining--
			failed = failed || !acked
			linkFailed = linkFailed || (!acked && tries > 0)
			if remaining == 0 && done != nil {
				done(!failed, linkFailed)
			}
		})
	}
}

// lowpanInput reassembles and decompresses one frame payload.
func (s *Stack) lowpanInput(payload []byte, src, dst ieee802154.Address) {
	pkt, err := s.reasm.Input(payload, src, dst)
	if err != nil {
		s.countBad("6lowpan", err)
		return
	}
	if pkt == nil {
		return // more fragments to come
	}
	s.ipInput(pkt, src)
}
