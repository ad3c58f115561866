package fleet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/fleet"
	"github.com/lsmqtt/lsmqtt/node/mobility"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Twenty motes on the emulated mesh of an in-process area, registered with
// its Trusted System, run for 15 emulated minutes and each reports energy.
func TestFleetOfTwentyOnTheMesh(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewVirtual(epoch)
	a, err := area.Start(ctx, area.Config{Mesh: true, TS: true, RegistryPath: filepath.Join(t.TempDir(), "ts.db"),
		MediumConfig: medium.Config{Seed: 5}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cg, err := a.NewCaregiver("ward-nurse", "ward/#")
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	f, err := fleet.New(fleet.Config{Count: 20, Area: a, Register: true, Clock: clk, Seed: 11,
		Mote: mote.Config{PublishInterval: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ticks := 0
	if err := f.Run(ctx, 15*time.Minute, 5*time.Minute, func() { ticks++ }); err != nil {
		t.Fatal(err)
	}
	if ticks != 3 {
		t.Fatalf("%d stats ticks, want 3", ticks)
	}
	r := f.Report()
	if len(r.Nodes) != 20 || r.Clock != "virtual" || r.Transport != "mesh" {
		t.Fatalf("report of %d nodes, clock %s, transport %s", len(r.Nodes), r.Clock, r.Transport)
	}
	seen := map[string]bool{}
	for _, n := range r.Nodes {
		if seen[n.ID] {
			t.Fatalf("duplicate id %s", n.ID)
		}
		seen[n.ID] = true
		if n.Stats.PublishedVitals < 10 || n.Ticks.TX == 0 || n.Ticks.RX == 0 || n.Ticks.LPM == 0 ||
			n.TotalMJ <= 0 || n.PowerMW <= 0 || n.Lifetime <= 0 || n.Stats.Challenges != 1 {
			t.Errorf("%s: %+v", n.ID, n)
		}
		if n.ElapsedS < 15*60-1 || n.ElapsedS > 15*60+1 {
			t.Errorf("%s: elapsed %v s", n.ID, n.ElapsedS)
		}
	}
	// The caregiver (granted nothing) saw every mote's topic, sealed.
	topics := map[string]bool{}
	for len(cg.Messages()) > 0 {
		m := <-cg.Messages()
		topics[m.Topic] = true
	}
	if len(topics) < 20 {
		t.Fatalf("broker carried %d topics, want 20 vitals topics", len(topics))
	}
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "z1-0020") {
		t.Fatalf("text report lacks z1-0020:\n%s", text.String())
	}
	if err := json.NewEncoder(&js).Encode(r); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
}

// Motes walking (random waypoint) across a floor larger than the radio
// range lose their parents, rejoin and keep publishing; energy is still
// reported for each.
func TestFleetWalking(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewVirtual(epoch)
	a, err := area.Start(ctx, area.Config{Mesh: true, TS: true, RegistryPath: filepath.Join(t.TempDir(), "ts.db"),
		MediumConfig: medium.Config{Seed: 9, Range: 40}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	plan := &mobility.Plan{Bounds: mobility.Room{Min: mobility.Point{X: -90, Y: -30}, Max: mobility.Point{X: 90, Y: 30}}}
	f, err := fleet.New(fleet.Config{Count: 6, Area: a, Register: true, Clock: clk, Seed: 2, Spacing: 25,
		Mote: mote.Config{PublishInterval: time.Minute, AlarmQoS: mqttsn.QoS1, RoutineQoS: mqttsn.QoS1},
		Mobility: func(n int, _ string, home medium.Position) mobility.Model {
			w, err := mobility.NewRandomWaypoint(mobility.WaypointConfig{Plan: plan, Start: &home, Seed: uint64(n),
				MinPause: time.Minute, MaxPause: 3 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			return w
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Run(ctx, 10*time.Minute, 0, nil); err != nil {
		t.Fatal(err)
	}
	changes := uint64(0)
	for _, m := range f.Motes() {
		changes += m.Transport().(*mote.MeshTransport).Stack().Status().Stats.ParentChanges
	}
	r := f.Report()
	delivered := 0
	for _, n := range r.Nodes {
		if n.TotalMJ <= 0 || n.Stats.PublishedVitals == 0 {
			t.Errorf("%s: %+v", n.ID, n)
		}
		delivered += int(n.Stats.PublishedVitals)
	}
	if changes == 0 {
		t.Fatal("nobody changed parents in 10 minutes of walking")
	}
	t.Logf("parent changes %d, vitals published %d of about %d", changes, delivered, 6*10)
}
