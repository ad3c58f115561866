package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/node/eval"
	"github.com/lsmqtt/lsmqtt/node/measure"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/node/sensors"
)

func init() {
	register(&cli.Command{
		Name:  "energy",
		Usage: "reproduce the paper's energy and lifetime evaluation, beside an honest emulated model",
		Description: "Prints two models side by side. 'paper' is Bashir & Mir's own model (no idle current), fed with\n" +
			"the per-transaction energies its published lifetimes imply; it gives 53,664 h and 9,575 h at\n" +
			"10 transactions/hour and the 17.84 % ratio. 'emulated' runs the Energest-style accounting over a\n" +
			"modelled MQTT-SN transaction for each scheme, with the LPM floor and idle listening included.\n" +
			"Also the paper's memory figure (6.2) beside the code size of each suite. See docs/evaluation.md.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "profile", Value: profile.Default, EnvVars: []string{"LSMQTT_ENERGY_PROFILE"},
				Usage: "mote profile: " + strings.Join(profile.Names(), ", ") + ", or a JSON profile file"},
			&cli.StringSliceFlag{Name: "suite", EnvVars: []string{"LSMQTT_ENERGY_SUITE"},
				Usage: "schemes to evaluate (repeat or comma-separate): paper-xor, ascon128, aes128-ccm8, cb-dtls (default all)"},
			&cli.Float64SliceFlag{Name: "rate", EnvVars: []string{"LSMQTT_ENERGY_RATE"},
				Usage: "transactions per hour to show lifetimes for (repeat or comma-separate; 10 is always included)"},
			&cli.IntFlag{Name: "session", Value: eval.DefaultSessionTx, EnvVars: []string{"LSMQTT_ENERGY_SESSION"},
				Usage: "transactions per session: the key delivery or DTLS handshake is amortised over this many"},
			&cli.IntFlag{Name: "payload", Value: sensors.RecordLen, EnvVars: []string{"LSMQTT_ENERGY_PAYLOAD"},
				Usage: "bytes of vital-sign payload per transaction (default: one sensors record)"},
			&cli.Float64Flag{Name: "derating", EnvVars: []string{"LSMQTT_ENERGY_DERATING"},
				Usage: "usable fraction of the battery's capacity, (0,1]; default: the profile's (1 for z1, as the paper)"},
			&cli.BoolFlag{Name: "json", EnvVars: []string{"LSMQTT_ENERGY_JSON"},
				Usage: "print the report as JSON on stdout"},
			&cli.BoolFlag{Name: "measured", EnvVars: []string{"LSMQTT_ENERGY_MEASURED"},
				Usage: "feed the emulated model with per-transaction energies measured by running the emulator " +
					"(node/measure: motes through a gateway, broker and TS) instead of the modelled transaction; cb-dtls stays modelled"},
			&cli.StringFlag{Name: "plot", EnvVars: []string{"LSMQTT_ENERGY_PLOT"},
				Usage: "write PNG charts (energy per transaction, paper vs emulated, lifetime vs rate) into this directory"},
		},
		Action: runEnergy,
	})
}

func runEnergy(c *cli.Context) error {
	p, err := profileFlag(c)
	if err != nil {
		return err
	}
	schemes, err := schemesFlag(c)
	if err != nil {
		return err
	}
	if n := c.Int("session"); n < 1 {
		return fmt.Errorf("--session %d: want at least 1", n)
	}
	if n := c.Int("payload"); n < 0 {
		return fmt.Errorf("--payload %d: want >= 0", n)
	}
	cfg := eval.Config{
		Profile: p, Schemes: schemes, Rates: c.Float64Slice("rate"),
		Payload: c.Int("payload"), SessionTx: c.Int("session"),
	}
	if c.Bool("measured") {
		var run []eval.Scheme
		for _, s := range schemes {
			if s != eval.CBDTLS {
				run = append(run, s)
			}
		}
		res, err := measure.Run(c.Context, measure.Config{Profile: p, Schemes: run,
			SessionTx: c.Int("session"), Logger: logger})
		if err != nil {
			return fmt.Errorf("--measured: %w", err)
		}
		cfg.Payload = sensors.RecordLen // what the emulated motes publish
		cfg.Source = measure.NewSource(res, eval.NewModel(p, sensors.RecordLen))
	}
	r, err := eval.Evaluate(cfg)
	if err != nil {
		return err
	}
	if err := plotFlag(c, r); err != nil {
		return err
	}
	out := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.WriteText(out)
}
