package loadgen

import (
	"testing"
	"time"
)

func TestDeliveriesCountsOnceAndRejectsForeign(t *testing.T) {
	t0 := time.Now().UnixNano()
	d := newDeliveries(3, t0)
	p := make([]byte, 32)
	deliver := func(sentAt int64, client, seq uint32, dup bool) {
		stamp(p, sentAt, client, seq)
		d.deliver(p, dup, sentAt+int64(100*time.Microsecond))
	}
	for seq := range uint32(200) {
		deliver(t0, 1, seq, false)
	}
	deliver(t0, 1, 5, true)               // a duplicate, flagged DUP
	deliver(t0, 1, 199, false)            // a duplicate
	deliver(t0, 3, 0, false)              // no such client
	deliver(t0-1, 0, 0, false)            // stamped before the run
	deliver(t0, 0, maxSeq, false)         // sequence beyond the bound
	d.deliver([]byte("short"), false, t0) // no stamp
	c := d.snapshot()
	if c.unique != 200 || c.dups != 2 || c.dupFlag != 1 || c.foreign != 4 {
		t.Fatalf("unique/dups/dupFlag/foreign = %d/%d/%d/%d, want 200/2/1/4", c.unique, c.dups, c.dupFlag, c.foreign)
	}
	if d.count() != 200 || d.e2e.Count() != 200 || d.e2e.Max() != 100*time.Microsecond {
		t.Fatalf("count %d, e2e n=%d max=%v", d.count(), d.e2e.Count(), d.e2e.Max())
	}
}

func FuzzDeliver(f *testing.F) {
	p := make([]byte, 16)
	stamp(p, 1, 0, 7)
	f.Add(p)
	f.Add([]byte{})
	f.Add([]byte("0123456789abcdef"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := newDeliveries(4, 0)
		d.deliver(b, false, 2)
		d.deliver(b, true, 3)
		c := d.snapshot()
		if c.unique > 1 || c.unique+c.dups+c.foreign != 2 {
			t.Fatalf("one payload delivered twice counted as %+v", c)
		}
	})
}
