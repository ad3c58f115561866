package loadgen

import (
	"context"
	"testing"
	"time"
)

func checkRawCounts(t *testing.T, r *RawResult) {
	t.Helper()
	if r.Sent <= 0 {
		t.Fatalf("nothing sent: %+v", r)
	}
	if r.Received > r.Sent {
		t.Fatalf("received %d > sent %d", r.Received, r.Sent)
	}
	if r.Sent+r.SendErrors > r.Offered {
		t.Fatalf("sent %d + errors %d > offered %d", r.Sent, r.SendErrors, r.Offered)
	}
	if want := 100 * float64(r.Sent-r.Received) / float64(r.Sent); r.LossPct != want {
		t.Fatalf("loss %v%%, want %v%%", r.LossPct, want)
	}
	if r.Received > 0 && r.ReceivedPerSec <= 0 {
		t.Fatalf("received %d but rate %v", r.Received, r.ReceivedPerSec)
	}
}

func TestRawCountPacedLoopback(t *testing.T) {
	// A gentle paced run on loopback: 2,000 datagrams from 4 sockets at
	// 20,000/s fit easily in the sink's buffer, so every one must arrive.
	r, err := RunRaw(context.Background(), RawConfig{Senders: 4, Size: 40, Rate: 20000, Count: 2000, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	checkRawCounts(t, r)
	if r.Offered != 2000 || r.Sent != 2000 {
		t.Fatalf("offered %d sent %d, want 2000 2000", r.Offered, r.Sent)
	}
	if r.Received != r.Sent {
		t.Fatalf("paced loopback lost datagrams: sent %d received %d (sink rcvbuf %d)", r.Sent, r.Received, r.SinkBuffers.Rcv)
	}
	if r.Senders != 4 || r.Size != 40 {
		t.Fatalf("result echoes senders %d size %d", r.Senders, r.Size)
	}
}

func TestRawUnpacedDurationIPv6(t *testing.T) {
	// Unpaced for a short while: loss is allowed, but counts must be consistent.
	r, err := RunRaw(context.Background(), RawConfig{Sink: "[::1]:0", Senders: 2, Size: 100, Duration: 50 * time.Millisecond, Readers: 2})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	checkRawCounts(t, r)
	if r.Offered != r.Sent+r.SendErrors {
		t.Fatalf("unpaced duration run: offered %d, want sent+errors %d", r.Offered, r.Sent+r.SendErrors)
	}
}

func TestRawConfigErrors(t *testing.T) {
	if _, err := RunRaw(context.Background(), RawConfig{}); err == nil {
		t.Fatal("raw mode without duration or count accepted")
	}
	if _, err := RunRaw(context.Background(), RawConfig{Count: 1, Size: 70000}); err == nil {
		t.Fatal("oversized datagram accepted")
	}
}

func TestRawCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := RunRaw(ctx, RawConfig{Rate: 10, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent > 1 {
		t.Fatalf("cancelled run sent %d", r.Sent)
	}
}
