package clock

import (
	"testing"
	"time"
)

func TestVirtualFiresInOrder(t *testing.T) {
	start := time.Unix(1000, 0)
	v := NewVirtual(start)
	var got []int
	var at []time.Duration
	v.AfterFunc(3*time.Second, func() { got = append(got, 3); at = append(at, v.Since(start)) })
	v.AfterFunc(1*time.Second, func() {
		got = append(got, 1)
		at = append(at, v.Since(start))
		v.AfterFunc(1*time.Second, func() { got = append(got, 2); at = append(at, v.Since(start)) })
	})
	stopped := v.AfterFunc(2*time.Second, func() { got = append(got, 99) })
	if !stopped.Stop() {
		t.Fatal("Stop of pending timer returned false")
	}
	if stopped.Stop() {
		t.Fatal("second Stop returned true")
	}
	v.Advance(2500 * time.Millisecond)
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("after 2.5s fired %v, want [1 2]", got)
	}
	if at[0] != time.Second || at[1] != 2*time.Second {
		t.Fatalf("callbacks saw times %v, want [1s 2s]", at)
	}
	if v.Since(start) != 2500*time.Millisecond {
		t.Fatalf("clock at %v, want 2.5s", v.Since(start))
	}
	v.Advance(time.Second)
	if len(got) != 3 || got[2] != 3 {
		t.Fatalf("fired %v, want [1 2 3]", got)
	}
	if v.Pending() != 0 {
		t.Fatalf("pending = %d", v.Pending())
	}
}

func TestVirtualReset(t *testing.T) {
	v := NewVirtual(time.Unix(0, 0))
	n := 0
	tm := v.AfterFunc(time.Second, func() { n++ })
	v.Advance(900 * time.Millisecond)
	if !tm.Reset(time.Second) {
		t.Fatal("Reset of active timer returned false")
	}
	v.Advance(900 * time.Millisecond)
	if n != 0 {
		t.Fatal("timer fired before its reset deadline")
	}
	v.Advance(100 * time.Millisecond)
	if n != 1 {
		t.Fatalf("fired %d times, want 1", n)
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of fired timer returned true")
	}
	v.Advance(time.Second)
	if n != 2 {
		t.Fatalf("fired %d times after re-arm, want 2", n)
	}
}

var _ Clock = Real{}
var _ Clock = (*Virtual)(nil)
