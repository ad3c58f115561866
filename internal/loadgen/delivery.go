package loadgen

import (
	"sync"
	"sync/atomic"
	"time"
)

// deliveries counts what a subscriber receives: each (client, seq) once,
// duplicates apart, and the end-to-end latency from the payload stamp.
type deliveries struct {
	clients int
	since   int64 // stamps older than this (Unix ns) are from another run
	e2e     *Histogram

	mu       sync.Mutex
	seen     [][]uint64 // per client, a bitset of sequence numbers
	unique   int64
	dups     int64
	dupFlag  int64 // deliveries that carried the DUP flag (MQTT-SN) / duplicate (MQTT)
	foreign  int64 // payloads without a valid stamp or for an unknown client
	last     atomic.Int64
	uniqueAt atomic.Int64 // mirror of unique for lock-free polling
}

// maxSeq bounds the sequence numbers tracked per client (a bitset of at
// most 8 MiB), so a foreign payload cannot make the tracker allocate much.
const maxSeq = 1 << 26

func newDeliveries(clients int, since int64) *deliveries {
	return &deliveries{clients: clients, since: since, e2e: new(Histogram), seen: make([][]uint64, clients)}
}

// deliver records one received payload at time now (Unix ns).
func (d *deliveries) deliver(payload []byte, dup bool, now int64) {
	sentAt, client, seq, ok := readStamp(payload)
	d.mu.Lock()
	defer d.mu.Unlock()
	if dup {
		d.dupFlag++
	}
	if !ok || int(client) >= d.clients || seq >= maxSeq || sentAt < d.since {
		d.foreign++
		return
	}
	bs := d.seen[client]
	w := int(seq / 64)
	if w >= len(bs) {
		n := max(w+1, 2*len(bs), 16)
		nb := make([]uint64, n)
		copy(nb, bs)
		bs = nb
		d.seen[client] = bs
	}
	bit := uint64(1) << (seq % 64)
	if bs[w]&bit != 0 {
		d.dups++
		return
	}
	bs[w] |= bit
	d.unique++
	d.uniqueAt.Store(d.unique)
	d.last.Store(now)
	d.e2e.Record(time.Duration(now - sentAt))
}

// count is the number of distinct messages delivered so far.
func (d *deliveries) count() int64 { return d.uniqueAt.Load() }

type deliveryCounts struct {
	unique, dups, dupFlag, foreign int64
	last                           int64
}

func (d *deliveries) snapshot() deliveryCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	return deliveryCounts{unique: d.unique, dups: d.dups, dupFlag: d.dupFlag, foreign: d.foreign, last: d.last.Load()}
}
