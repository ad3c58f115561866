package clock

import (
	"container/heap"
	"sync"
	"time"
)

// Virtual is a clock that moves only when told to. Timers fire synchronously
// from Advance/AdvanceTo in deadline order (ties in scheduling order), with the
// clock set to each timer's deadline while its callback runs. Callbacks may
// schedule further timers; those fire in the same Advance if they are due.
// It is safe for concurrent use.
type Virtual struct {
	mu   sync.Mutex
	now  time.Time
	seq  uint64
	heap timerHeap
}

// NewVirtual returns a virtual clock reading start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start} }

func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

func (v *Virtual) Since(t time.Time) time.Duration { return v.Now().Sub(t) }

func (v *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	v.mu.Lock()
	defer v.mu.Unlock()
	t := &vtimer{v: v, f: f, index: -1}
	v.schedule(t, d)
	return t
}

func (v *Virtual) schedule(t *vtimer, d time.Duration) {
	if d < 0 {
		d = 0
	}
	t.when = v.now.Add(d)
	v.seq++
	t.seq = v.seq
	heap.Push(&v.heap, t)
}

// Advance moves the clock forward by d, firing every timer that falls due.
func (v *Virtual) Advance(d time.Duration) { v.AdvanceTo(v.Now().Add(d)) }

// AdvanceTo moves the clock to t (never backwards), firing due timers.
func (v *Virtual) AdvanceTo(t time.Time) {
	for {
		v.mu.Lock()
		if len(v.heap) == 0 || v.heap[0].when.After(t) {
			if t.After(v.now) {
				v.now = t
			}
			v.mu.Unlock()
			return
		}
		next := heap.Pop(&v.heap).(*vtimer)
		if next.when.After(v.now) {
			v.now = next.when
		}
		f := next.f
		v.mu.Unlock()
		f()
	}
}

// Next returns the deadline of the earliest pending timer, if any.
func (v *Virtual) Next() (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.heap) == 0 {
		return time.Time{}, false
	}
	return v.heap[0].when, true
}

// Pending returns the number of timers not yet fired or stopped.
func (v *Virtual) Pending() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.heap)
}

type vtimer struct {
	v     *Virtual
	f     func()
	when  time.Time
	seq   uint64
	index int
}

func (t *vtimer) Stop() bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&t.v.heap, t.index)
	return true
}

func (t *vtimer) Reset(d time.Duration) bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	active := t.index >= 0
	if active {
		heap.Remove(&t.v.heap, t.index)
	}
	t.v.schedule(t, d)
	return active
}

type timerHeap []*vtimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*vtimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
