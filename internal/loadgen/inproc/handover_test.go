package inproc

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestRunHandover: the node resumes at every move, and its first message
// after each move reaches the station through the area it moved to; both
// modes. Durations are measured, never asserted: only that every move was
// timed and that the order holds (HO-RESUMED cannot come before the
// HO-RESUME it answers, and a delivery cannot precede its HO-RESUME).
func TestRunHandover(t *testing.T) {
	for _, wait := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		res, err := RunHandover(ctx, HandoverConfig{Moves: 6, QoS: 1, WaitForResumed: wait, Timeout: 20 * time.Second})
		cancel()
		if err != nil {
			t.Fatalf("wait=%v: %v", wait, err)
		}
		if res.Resumed != 6 || res.Fallbacks != 0 || res.Delivered != 6 || res.WrongArea != 0 {
			t.Errorf("wait=%v: %+v, want 6 resumed, 6 delivered in the new area", wait, res)
		}
		if n := res.ResumeToDelivery.N; n != 6 {
			t.Errorf("wait=%v: %d deliveries timed, want 6", wait, n)
		}
		if l := res.ResumeToDelivery; l.MinUS <= 0 || l.P50US > l.P99US || l.P99US > l.MaxUS {
			t.Errorf("wait=%v: resume → delivery %+v: not an ordered distribution of positive times", wait, l)
		}
		var b bytes.Buffer
		if err := res.WriteText(&b); err != nil || !strings.Contains(b.String(), "resumed 6") {
			t.Errorf("wait=%v: report %q, %v", wait, b.String(), err)
		}
	}
}

// BenchmarkHandoverResume reports the time from a node's HO-RESUME to its
// first message delivered to the MQTT subscriber in the new area (two
// in-process areas with peering, loopback), p50 and p99 over b.N moves.
func BenchmarkHandoverResume(b *testing.B) {
	for _, tc := range []struct {
		name string
		wait bool
	}{{"publish-behind-resume", false}, {"publish-after-resumed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			moves := max(b.N, 20)
			b.ReportAllocs()
			res, err := RunHandover(context.Background(), HandoverConfig{Moves: moves, QoS: 1, WaitForResumed: tc.wait})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.ResumeToDelivery.P50US, "p50-µs")
			b.ReportMetric(res.ResumeToDelivery.P99US, "p99-µs")
			b.ReportMetric(res.ResumeToResumed.P50US, "resumed-p50-µs")
			b.ReportMetric(float64(res.Fallbacks), "fallbacks")
		})
	}
}
