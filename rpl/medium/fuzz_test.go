package medium

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/zep"
)

// FuzzIngest feeds arbitrary datagrams to the medium as if a node had sent
// them over UDP: no panic, and only valid frames reach the other node.
func FuzzIngest(f *testing.F) {
	good := func(payload string, crc bool) []byte {
		fr := ieee802154.DataFrame(7, 0xabcd, ieee802154.Broadcast, ext(1), []byte(payload), false)
		psdu, _ := fr.AppendBinary(nil)
		p := zep.Packet{Type: zep.TypeData, Channel: 26, CRCMode: crc, Frame: psdu}
		b, _ := p.AppendBinary(nil)
		return b
	}
	f.Add(good("hello", true))
	f.Add(good("", false))
	ack := zep.Packet{Type: zep.TypeAck, Seq: 9}
	b, _ := ack.AppendBinary(nil)
	f.Add(b)
	f.Add([]byte("EX\x01"))
	f.Fuzz(func(t *testing.T, datagram []byte) {
		v := clock.NewVirtual(epoch)
		m := New(Config{Clock: v})
		defer m.Close()
		src := &endpoint{m: m, sink: nopSink{}}
		m.mu.Lock()
		m.addEndpointLocked(src)
		m.mu.Unlock()
		p, _ := m.Attach(ext(2), 2)
		var n int
		p.SetReceiver(func(psdu []byte, _ RxInfo) {
			if !ieee802154.CheckFCS(psdu) {
				// LQI-mode frames carry status octets instead of an FCS.
				if _, _, err := ieee802154.DecodeNoFCS(psdu[:len(psdu)-2]); err != nil {
					t.Fatalf("delivered an undecodable frame: %v", err)
				}
			}
			n++
		})
		m.SetPosition(ext(2), Position{})
		m.SetPosition(ext(1), Position{})
		err := m.ingest(src, datagram)
		v.Advance(time.Second)
		if err != nil && n != 0 {
			t.Fatal("a refused datagram was delivered")
		}
	})
}

type nopSink struct{}

func (nopSink) deliver([]byte) {}
