package inproc

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A /proc/PID/stat line whose command name holds a space and a ')':
	// utime 250 and stime 150 ticks (fields 14 and 15).
	line := []byte("4242 (lsmqtt (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 150 0 0 20 0 12 0 100 0 0")
	if got, want := parseStatCPU(line), 4*time.Second; got != want {
		t.Fatalf("parseStatCPU = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "4242 lsmqtt S 1", "4242 (x) S 1 2 3", "4242 (x) S 1 2 3 4 5 6 7 8 9 a b"} {
		if got := parseStatCPU([]byte(bad)); got != 0 {
			t.Errorf("parseStatCPU(%q) = %v, want 0", bad, got)
		}
	}
}

// TestProcessCPU: this process's CPU time read from /proc grows when it
// spins (Linux only).
func TestProcessCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux")
	}
	before := processCPU(os.Getpid())
	giveUp := time.Now().Add(time.Minute) // only turns a hang into a failure
	sink := 0
	for processCPU(os.Getpid()) <= before { // spins until a 10 ms tick is charged
		if time.Now().After(giveUp) {
			t.Fatalf("CPU time stayed at %v while spinning", before)
		}
		for i := range 1_000_000 {
			sink += i * i
		}
	}
	_ = sink
}
