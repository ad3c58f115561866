package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/node/hospital"
	"github.com/lsmqtt/lsmqtt/trust/monitor"
)

func init() {
	register(&cli.Command{
		Name:  "demo",
		Usage: "a small hospital for about a minute: 3 wards, 12 patients walking, the caregivers' live view, then the summary",
		Description: "What `make run` runs. Nothing to install or configure: the gateways, brokers, Trusted System and\n" +
			"motes all run in this process on loopback. The table is what a caregiver's station sees (the\n" +
			"decrypted vital signs, the ward each patient's data last came through, gaps and alarms); the\n" +
			"summary at the end is `lsmqtt sim`'s. See README.md, \"What make run shows\".",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "duration", Value: time.Minute, EnvVars: []string{"LSMQTT_DEMO_DURATION"},
				Usage: "how long the demo runs (real time)"},
			&cli.IntFlag{Name: "patients", Value: 12, EnvVars: []string{"LSMQTT_DEMO_PATIENTS"}, Usage: "number of patients"},
			&cli.IntFlag{Name: "areas", Value: 3, EnvVars: []string{"LSMQTT_DEMO_AREAS"}, Usage: "number of wards"},
			&cli.Uint64Flag{Name: "seed", Value: 1, EnvVars: []string{"LSMQTT_DEMO_SEED"}, Usage: "seed of every random draw"},
			&cli.BoolFlag{Name: "json", EnvVars: []string{"LSMQTT_DEMO_JSON"}, Usage: "no live view; print the summary as JSON"},
		},
		Action: runDemo,
	})
}

// demoScenario is the demo's hospital: short stays so that patients change
// wards within the minute, and one patient in each ward whose vital signs
// cross an alarm threshold.
func demoScenario(c *cli.Context) (*hospital.Scenario, error) {
	sc := &hospital.Scenario{Name: "demo", Seed: c.Uint64("seed"), AreaCount: c.Int("areas"),
		Patients: c.Int("patients"),
		Scenarios: []string{"stable", "stable", "tachycardia", "stable", "desaturation", "stable", "fever",
			"stable", "bradycardia"},
		Mobility: hospital.Mobility{Model: "waypoint", Dwell: hospital.Duration{Duration: 25 * time.Second},
			Speed: 20},
		// Tight limits, so that some patients alarm within the minute.
		Alarms: hospital.AlarmLimits{HeartRateHigh: 78, SpO2Low: 97}}
	for i := range sc.AreaCount {
		sc.Areas = append(sc.Areas, string(rune('A'+i%26))+strings.Repeat("'", i/26))
	}
	sc.Duration.Duration = c.Duration("duration")
	sc.PublishInterval.Duration = 2 * time.Second
	moving := 0.5
	sc.Mobility.Moving = &moving
	return sc, sc.Defaults()
}

func runDemo(c *cli.Context) error {
	sc, err := demoScenario(c)
	if err != nil {
		return err
	}
	out := c.App.Writer
	tty := isTerminal(out)
	cfg := hospital.Config{Scenario: sc, Logger: logger}
	if !c.Bool("json") {
		fmt.Fprintf(out, "lsmqtt demo: %d wards, %d patients wearing emulated z1 motes, for %v (Ctrl-C ends it early)\n",
			len(sc.Areas), sc.Patients, sc.Duration.Duration)
		last := time.Time{}
		cfg.OnSecond = func(s *hospital.Sim) {
			// On a terminal, redraw every second; otherwise a table every 15 s.
			if !tty && time.Since(last) < 15*time.Second {
				return
			}
			last = time.Now()
			title := fmt.Sprintf("caregivers' station — %v of %v — %s", s.Elapsed().Truncate(time.Second),
				sc.Duration.Duration, "vital signs decrypted with keys from the Trusted System")
			_ = monitor.Render(out, s.Monitor().Patients(), s.Monitor().Stats(),
				monitor.RenderOptions{ANSI: tty, Title: title, Now: time.Now()})
			if !tty {
				fmt.Fprintln(out)
			}
		}
	}
	sum, err := hospital.Run(c.Context, cfg)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return sum.WriteJSON(out)
	}
	fmt.Fprintln(out)
	if sum.Interrupted {
		fmt.Fprintln(out, "(interrupted)")
	}
	return sum.WriteText(out, 0)
}
