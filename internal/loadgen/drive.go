package loadgen

import (
	"sync/atomic"
	"time"
)

// driver sends on several sockets from one goroutine. Unpaced senders are
// CPU hogs: one goroutine per socket would starve whatever else shares the
// Go scheduler (the raw sink, an in-process gateway), since the scheduler is
// fair per goroutine. So a few drivers each own many sockets and, every
// round, send each socket whatever its pacer says is due, up to batch, and
// sleep only when nothing is due anywhere.
type driver struct {
	pacers  []pacer
	done    []int64 // messages attempted per socket
	batch   int64
	stopped *atomic.Bool
	stop    <-chan struct{}
	// send sends k messages on socket i, numbered from seq.
	send func(i int, seq, k int64)
}

func (d *driver) run() {
	n := len(d.pacers)
	d.done = make([]int64, n)
	finished := make([]bool, n)
	active := n
	tm := time.NewTimer(time.Hour)
	tm.Stop()
	defer tm.Stop()
	for active > 0 && !d.stopped.Load() {
		now := time.Now()
		sent := false
		var next time.Time
		for i := range d.pacers {
			if finished[i] {
				continue
			}
			p := &d.pacers[i]
			if lim := p.offered(); lim >= 0 && d.done[i] >= lim {
				finished[i] = true
				active--
				continue
			}
			k := p.due(now) - d.done[i]
			if k <= 0 {
				if t := p.at(d.done[i]); next.IsZero() || t.Before(next) {
					next = t
				}
				continue
			}
			k = min(k, d.batch)
			d.send(i, d.done[i], k)
			d.done[i] += k
			sent = true
		}
		if sent || next.IsZero() {
			continue
		}
		if w := time.Until(next); w > 0 {
			tm.Reset(w)
			select {
			case <-tm.C:
			case <-d.stop:
				return
			}
		}
	}
}

// shard splits n items among w drivers: driver j gets items j, j+w, ...
func shard(n, w int) [][]int {
	w = max(1, min(w, n))
	out := make([][]int, w)
	for i := range n {
		out[i%w] = append(out[i%w], i)
	}
	return out
}
