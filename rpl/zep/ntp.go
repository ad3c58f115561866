package zep

import "time"

// ntpEpochOffset is the number of seconds from 1900-01-01 (the NTP era 0
// epoch) to 1970-01-01 (RFC 5905 §6).
const ntpEpochOffset = 2208988800

// NTPTime converts t to a 64-bit NTP timestamp: 32 bits of seconds since
// 1900 and 32 bits of fraction (RFC 5905 §6). Times outside era 0
// (1900-2036) wrap, as NTP timestamps do.
func NTPTime(t time.Time) uint64 {
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return sec<<32 | frac
}

// TimeFromNTP converts a 64-bit NTP timestamp (era 0) to a time.Time.
func TimeFromNTP(v uint64) time.Time {
	sec := int64(v>>32) - ntpEpochOffset
	nsec := int64((v & 0xffffffff) * 1e9 >> 32)
	return time.Unix(sec, nsec)
}
