package loadgen

import (
	"encoding/binary"
	"time"
)

// StampLen is the size of the stamp at the start of every payload the
// generator publishes:
//
//	SentAt(8, Unix ns, big-endian) Client(4) Seq(4)
//
// The wall clock (not the monotonic one) makes the stamp meaningful to a
// subscriber in another process on the same host. Payloads shorter than
// StampLen carry no stamp and cannot be counted end to end.
const StampLen = 16

// stamp writes the stamp into the start of p; it does nothing when p is
// shorter than StampLen.
func stamp(p []byte, sentAt int64, client, seq uint32) {
	if len(p) < StampLen {
		return
	}
	binary.BigEndian.PutUint64(p, uint64(sentAt))
	binary.BigEndian.PutUint32(p[8:], client)
	binary.BigEndian.PutUint32(p[12:], seq)
}

// readStamp reads a stamp; ok is false when p is too short.
func readStamp(p []byte) (sentAt int64, client, seq uint32, ok bool) {
	if len(p) < StampLen {
		return 0, 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(p)), binary.BigEndian.Uint32(p[8:]), binary.BigEndian.Uint32(p[12:]), true
}

// nowNano is the stamp clock.
func nowNano() int64 { return time.Now().UnixNano() }
