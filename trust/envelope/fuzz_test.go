package envelope

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

// fuzzEnvelopes are valid envelopes under the fuzz keys (ids 7 and 8).
func fuzzEnvelopes(t testing.TB) (ring *MemKeyring, valid [][]byte) {
	ring = NewMemKeyring()
	clk := clock.NewVirtual(t0)
	for i, suite := range []string{aead.NameAscon128, aead.NameAES128CCM} {
		k := testKey(t, suite, uint32(7+i), 0x11)
		ring.Add(k)
		s := NewSealer(k, clk)
		for _, p := range []string{"", "HR=72", "a 32-byte reading of vital signs"} {
			e, err := s.Seal(nil, topic, []byte(p))
			if err != nil {
				t.Fatal(err)
			}
			valid = append(valid, e)
		}
	}
	return ring, valid
}

// FuzzParse: Parse never panics, and what it accepts re-encodes to the
// same bytes.
func FuzzParse(f *testing.F) {
	_, valid := fuzzEnvelopes(f)
	for _, v := range valid {
		f.Add(v)
	}
	f.Add([]byte{})
	f.Add(make([]byte, HeaderLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, rest, err := Parse(b, 0)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if got := append(AppendHeader(nil, h), rest...); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, input %x", got, b)
		}
	})
}

// FuzzOpen: a Receiver never panics, categorises every rejection, and
// accepts nothing but the envelopes the keys' owner sealed.
func FuzzOpen(f *testing.F) {
	ring, valid := fuzzEnvelopes(f)
	for _, v := range valid {
		f.Add(v, topic)
	}
	f.Add([]byte{0x11, 0, 0, 0, 7, 0, 0x11, 0, 0, 0, 1}, topic)
	f.Fuzz(func(t *testing.T, b []byte, tp string) {
		r := NewReceiver(ReceiverConfig{Keys: ring, Clock: clock.NewVirtual(t0.Add(time.Minute))})
		pt, _, err := r.Open(nil, tp, b)
		if err != nil {
			if Reason(err) == "other" {
				t.Fatalf("uncategorised error %v", err)
			}
			if pt != nil {
				t.Fatalf("plaintext returned with error")
			}
			return
		}
		for _, v := range valid {
			if bytes.Equal(v, b) && tp == topic {
				return
			}
		}
		t.Fatalf("forgery accepted: %x on %q -> %q", b, tp, pt)
	})
}
