// Package energy is Energest-style energy accounting for emulated motes.
//
// A Meter counts time in ticks of RTIMER_ARCH_SECOND = 32768 Hz, as
// Contiki's Energest does on the MSP430 (cpu/msp430/rtimer-arch.h), for the
// power states of a node:
//
//	CPU         MCU active                         profile currents_ma.cpu
//	LPM         MCU asleep: elapsed time not CPU   profile currents_ma.lpm
//	TX          radio transmitting                 profile radio.tx_levels (per output power)
//	RX          radio receiving or listening       profile currents_ma.rx
//	IdleListen  MAC duty cycle while idle          profile currents_ma.rx × mac.idle_listen_ppm
//	Sensor      sensors powered for sampling       profile sensors[].current_ma
//
// and turns ticks into energy exactly as the Energest arithmetic in
// shared/reference/z1-energy.md does: energy_mJ = ticks × I_mA × V / 32768.
//
// # Driving a Meter
//
// The emulated node reports what it does as it does it, and the passage of
// time; the Meter never reads a clock:
//
//	m := energy.NewMeter(prof)           // a fresh meter at time zero
//	m.CPU(cycles)                        // MCU work, converted by the profile's clock
//	m.Stack(cycles)                      // the same, attributed to the network stack
//	m.Crypto(energy.Ascon128, energy.Seal, payloadLen, adLen)
//	m.TX(psduBytes)                      // one frame sent: MAC header + payload + FCS
//	m.RX(psduBytes)                      // one frame received
//	m.Listen(d)                          // radio on without a frame: CCA, ACK wait
//	m.Sample("pulse-oximeter")           // one sensor reading
//	m.SetTXPower(-25)                    // later frames use the -25 dBm current
//	m.Advance(elapsed)                   // wall (or virtual) time has passed
//	s := m.Snapshot()                    // ticks, energy, power, lifetime so far
//
// Frame airtime is (PHY overhead + PSDU) bytes × 8 / bit rate: for the
// CC2420, (6 + n) × 32 µs (IEEE 802.15.4-2006 §6.3, 250 kbit/s). The PSDU is
// the MAC frame including its FCS. Cipher costs are in cycles from the
// profile (see CryptoCycles for the formula per suite).
//
// LPM and IdleListen are derived, not reported: LPM is the elapsed time the
// CPU was not active, and IdleListen is the MAC's idle radio-on fraction of
// the time the radio was neither transmitting nor receiving. Elapsed time is
// the time advanced, or the busy time if events overran it. Events and
// Advance may come in any order: the accounting is over totals.
//
// Every conversion is integer arithmetic with the remainder carried, so a
// million one-cycle events give the same ticks as one million-cycle event and
// runs are bit-for-bit deterministic. Only the final energy is a float.
//
// A Meter is safe for concurrent use; its event methods do not allocate.
// Snapshots subtract (Snapshot.Sub), so a caller can measure a phase, such
// as one transaction, between two snapshots.
package energy
