package hospital

import (
	"testing"
)

// FuzzAirFrames: the air counter decodes whatever the medium carries (a
// ZEP peer can put any frame on it): it never panics, and every frame
// lands in exactly one class. Seeds: frames of a sim's capture
// (testdata/fuzz/FuzzAirFrames: DIO, DIS, DAO, DAO-ACK, MQTT-SN, TS, a
// FRAG1, acknowledgements) and the truncations below.
func FuzzAirFrames(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x02, 0x00, 0x2a, 0x00, 0x00})                   // an acknowledgement (DSN 42), FCS zero
	f.Add([]byte{0x41, 0xd8, 0x01, 0xcd, 0xab, 0xff, 0xff, 0x02}) // a data frame cut in its header
	f.Fuzz(func(t *testing.T, psdu []byte) {
		var a airFrames
		for range 2 { // the second time, the DSN and tag tables are primed
			before, _, _ := a.counts()
			if err := a.WriteFrame(epoch, psdu); err != nil {
				t.Fatal(err)
			}
			after, frames, _ := a.counts()
			var dn, df uint64
			for c := range after {
				dn += after[c] - before[c]
				df += frames[c]
			}
			if dn != uint64(len(psdu)) {
				t.Fatalf("%d octets counted for a %d-octet frame", dn, len(psdu))
			}
			if df == 0 {
				t.Fatal("frame not counted")
			}
		}
	})
}
