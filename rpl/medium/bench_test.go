package medium

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// BenchmarkTransmit100 measures one broadcast among 100 nodes on a 10×10
// grid (each hears up to 8 neighbours), delivery included.
func BenchmarkTransmit100(b *testing.B) {
	v := clock.NewVirtual(epoch)
	m := New(Config{Clock: v, Range: 15})
	defer m.Close()
	var ports []*Port
	for i := 0; i < 100; i++ {
		a := ext(byte(i + 1))
		p, _ := m.Attach(a, uint16(i))
		p.SetReceiver(func([]byte, RxInfo) {})
		m.SetPosition(a, Position{X: float64(10 * (i % 10)), Y: float64(10 * (i / 10))})
		ports = append(ports, p)
	}
	psdu := frame(b, 1, ieee802154.Broadcast, ext(45), "0123456789012345678901234567890123456789")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ports[44].Transmit(psdu)
		v.Advance(time.Millisecond)
	}
}
