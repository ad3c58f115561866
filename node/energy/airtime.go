package energy

import (
	"time"

	"github.com/lsmqtt/lsmqtt/node/profile"
)

// AckPSDUBytes is the PSDU of an 802.15.4 acknowledgement frame: frame
// control 2, sequence number 1, FCS 2 (IEEE 802.15.4-2006 §7.2.2.3).
const AckPSDUBytes = 5

// AirtimeBits is the number of bit periods a PSDU of psduBytes occupies on
// air, PHY preamble, SFD and length byte included (IEEE 802.15.4-2006 §6.3).
func AirtimeBits(p *profile.Profile, psduBytes int) uint64 {
	if psduBytes < 0 {
		return 0
	}
	return uint64(p.Radio.PHYOverheadBytes+psduBytes) * 8
}

// Airtime is the time a PSDU of psduBytes occupies on air; for the CC2420,
// (6 + psduBytes) × 32 µs.
func Airtime(p *profile.Profile, psduBytes int) time.Duration {
	return time.Duration(AirtimeBits(p, psduBytes) * uint64(time.Second) / p.Radio.BitRate)
}

// AirtimeTicks is Airtime in whole Energest ticks, rounded down.
func AirtimeTicks(p *profile.Profile, psduBytes int) uint64 {
	var a acc
	a.add(AirtimeBits(p, psduBytes), p.Radio.BitRate)
	return a.ticks
}

// CycleTicks is cycles of MCU work in whole Energest ticks at the profile's
// clock, rounded down.
func CycleTicks(p *profile.Profile, cycles uint64) uint64 {
	var a acc
	a.add(cycles, p.MCU.ClockHz)
	return a.ticks
}
