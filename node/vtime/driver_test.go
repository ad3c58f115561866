package vtime

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Unix(1_700_000_000, 0)

// A goroutine that answers a timer through a channel (as a client's reader
// answers a frame) is waited for: Do returns its result at the emulated
// time of the timer, not later.
func TestDoWaitsForGoroutines(t *testing.T) {
	clk := clock.NewVirtual(t0)
	d := &Driver{Clock: clk, Step: time.Millisecond}
	var set, at time.Duration
	err := d.Do(context.Background(), time.Minute, func(ctx context.Context) error {
		ch := make(chan struct{})
		// f's goroutine may first run after the driver has stepped once or
		// twice (it steps while f runs), so the timer is measured from when
		// it was set, not from t0.
		set = clk.Since(t0)
		clk.AfterFunc(3*time.Second, func() { close(ch) })
		<-ch
		at = clk.Since(t0)
		return errors.New("done")
	})
	if err == nil || err.Error() != "done" {
		t.Fatalf("Do returned %v", err)
	}
	// The goroutine sees the timer's time, give or take the few 1 ms steps
	// the driver takes before the scheduler runs it again (how many depends
	// on the scheduler: under -race on a loaded host it is not always 0).
	// Without stepping, the clock would jump to the one-minute budget.
	if d := at - set; d < 3*time.Second || d > 3*time.Second+50*time.Millisecond {
		t.Fatalf("a 3 s timer set at %v was seen at %v", set, at)
	}
	// Do stops driving the clock once f returns: it is past 3 s but well short
	// of the one-minute budget. (How many steps it takes between the timer
	// firing and f returning depends on the scheduler, so it is not asserted.)
	if now := clk.Since(t0); now < 3*time.Second || now >= time.Minute {
		t.Fatalf("clock at %v after Do", now)
	}
}

func TestDoBudget(t *testing.T) {
	clk := clock.NewVirtual(t0)
	d := &Driver{Clock: clk, Step: 10 * time.Millisecond}
	err := d.Do(context.Background(), time.Second, func(ctx context.Context) error {
		<-ctx.Done() // never finishes on its own
		return ctx.Err()
	})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Do returned %v, want ErrTimeout", err)
	}
	if clk.Since(t0) != time.Second {
		t.Fatalf("clock at %v", clk.Since(t0))
	}
}

// Idle, the driver jumps from timer to timer; busy, it steps; busy with
// no activity for BusyWindow, it jumps again.
func TestStepping(t *testing.T) {
	clk := clock.NewVirtual(t0)
	var busy atomic.Bool
	var act atomic.Uint64
	d := &Driver{Clock: clk, Busy: busy.Load, Activity: act.Load, Step: time.Millisecond, BusyWindow: 20 * time.Millisecond}
	fired := 0
	clk.AfterFunc(time.Hour, func() { fired++ })
	advances := 0
	count := func() bool { advances++; return false }
	if _, err := d.RunUntil(context.Background(), count, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if fired != 1 || advances > 4 {
		t.Fatalf("idle: fired %d, %d checks for 2 h with one timer", fired, advances)
	}
	busy.Store(true)
	advances = 0
	if _, err := d.RunUntil(context.Background(), count, time.Second); err != nil {
		t.Fatal(err)
	}
	// 20 ms of 1 ms steps until the window without activity ends, then jumps.
	if advances < 20 || advances > 30 {
		t.Fatalf("busy and quiet: %d checks for 1 s", advances)
	}
	advances = 0
	if _, err := d.RunUntil(context.Background(), func() bool { act.Add(1); return count() }, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if advances < 100 {
		t.Fatalf("busy and active: %d checks for 100 ms of 1 ms steps", advances)
	}
}
