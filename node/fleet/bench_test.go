package fleet_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/fleet"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// BenchmarkFleetMesh runs 10 motes on the emulated mesh of an in-process
// area (TS, gateway, broker) for 10 emulated minutes per op and reports
// how many times faster than real time the emulation runs.
func BenchmarkFleetMesh(b *testing.B) {
	ctx := context.Background()
	const emulated = 10 * time.Minute
	var wall time.Duration
	for b.Loop() {
		clk := clock.NewVirtual(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
		a, err := area.Start(ctx, area.Config{Mesh: true, TS: true, RegistryPath: filepath.Join(b.TempDir(), "ts.db"),
			MediumConfig: medium.Config{Seed: 5}, Clock: clk})
		if err != nil {
			b.Fatal(err)
		}
		f, err := fleet.New(fleet.Config{Count: 10, Area: a, Register: true, Clock: clk, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := f.Run(ctx, emulated, 0, nil); err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start)
		f.Close()
		a.Close()
	}
	b.ReportMetric(float64(emulated)*float64(b.N)/float64(wall), "x-realtime")
}
