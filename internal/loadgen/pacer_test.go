package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestPacerSchedule(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := newPacer(t0, 1000, -1, 2*time.Second) // 1000/s for 2 s
	if got := p.offered(); got != 2000 {
		t.Fatalf("offered = %d, want 2000", got)
	}
	for _, tc := range []struct {
		after time.Duration
		want  int64
	}{{-time.Millisecond, 0}, {0, 1}, {999 * time.Microsecond, 1}, {time.Millisecond, 2}, {500 * time.Millisecond, 501}, {10 * time.Second, 2000}} {
		if got := p.due(t0.Add(tc.after)); got != tc.want {
			t.Errorf("due(+%v) = %d, want %d", tc.after, got, tc.want)
		}
	}
	if got := p.at(250); !got.Equal(t0.Add(250 * time.Millisecond)) {
		t.Errorf("at(250) = %v", got.Sub(t0))
	}
}

func TestPacerUnpaced(t *testing.T) {
	p := newPacer(time.Now(), 0, 5, 0)
	if p.due(time.Now()) != 5 || p.offered() != 5 {
		t.Fatalf("unpaced with limit 5: due %d offered %d", p.due(time.Now()), p.offered())
	}
	q := newPacer(time.Now(), 0, -1, time.Second)
	if q.due(time.Now()) != math.MaxInt64 || q.offered() != -1 {
		t.Fatalf("unpaced unbounded: due %d offered %d", q.due(time.Now()), q.offered())
	}
}

func TestPacerCountBeatsDuration(t *testing.T) {
	p := newPacer(time.Now(), 1000, 10, time.Hour)
	if p.offered() != 10 {
		t.Fatalf("offered = %d, want the count limit 10", p.offered())
	}
}

func TestSplit(t *testing.T) {
	t0 := time.Unix(0, 0)
	ps := split(t0, 1000, 10, 0, 4)
	var total int64
	for i, p := range ps {
		total += p.offered()
		if p.rate != 250 {
			t.Errorf("sender %d rate %v, want 250", i, p.rate)
		}
	}
	if total != 10 || ps[0].offered() != 3 || ps[3].offered() != 2 {
		t.Fatalf("limits %d %d %d %d (total %d), want 3 3 2 2", ps[0].offered(), ps[1].offered(), ps[2].offered(), ps[3].offered(), total)
	}
	// A 1 s paced run at 1000/s over 4 senders offers 1000 messages in total.
	total = 0
	for _, p := range split(t0, 1000, -1, time.Second, 4) {
		total += p.offered()
	}
	if total != 1000 {
		t.Fatalf("paced 1 s at 1000/s offers %d, want 1000", total)
	}
}
