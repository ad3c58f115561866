// Package profile describes emulated motes as data: clock, supply voltage,
// the currents of each power state (CPU, low-power mode, radio RX, radio TX
// per output power), the 802.15.4 radio's bit rate and framing overhead, the
// MAC's idle radio-on fraction, the battery, the cycle cost of cryptographic
// primitives on the MCU, the on-board sensors and the code size of each
// cipher.
//
// Profiles are JSON files. The built-in ones (z1, cc2538, nrf52840) are
// embedded from profiles/*.json; Load finds them by name and LoadFile reads
// another from disk, so a new mote needs no code. Every figure names its
// source in the profile's "sources" map, and figures that are estimates
// rather than datasheet or measured values are listed in "approximate".
//
// The z1 profile follows shared/reference/z1-energy.md: MSP430F2617 at 8 MHz
// and CC2420 with the Contiki-NG Energest currents (CPU 10 mA, LPM 23 µA,
// RX 18.8 mA, TX 17.4 mA at 0 dBm), 3 V, 250 kbit/s with 6 bytes of PHY
// overhead and a 2-byte FCS (IEEE 802.15.4-2006 §6.3), ContikiMAC idle
// listening and 2×AA 2800 mAh.
package profile
