package loadgen

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Host describes the machine a run measured, so figures from a busy or a
// different machine are recognisable as such.
type Host struct {
	CPUs int `json:"cpus"`
	// LoadAvg1 is the 1-minute load average when the run started (Linux;
	// 0 elsewhere). Anything well above 0 means other work shared the CPUs.
	LoadAvg1 float64 `json:"loadavg1"`
	GOOS     string  `json:"goos"`
	GOARCH   string  `json:"goarch"`
	Go       string  `json:"go"`
}

func hostInfo() Host {
	h := Host{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			h.LoadAvg1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return h
}
