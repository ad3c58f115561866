package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/eval"
	"github.com/lsmqtt/lsmqtt/node/fleet"
	"github.com/lsmqtt/lsmqtt/node/measure"
	"github.com/lsmqtt/lsmqtt/node/mobility"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/trust/aead"
)

func init() {
	env := func(n string) []string { return []string{"LSMQTT_NODE_" + n} }
	register(&cli.Command{
		Name:  "node",
		Usage: "run emulated medical motes (z1 by default) with energy accounting",
		UsageText: "lsmqtt node --udp HOST:PORT [--creds-dir DIR | --open] [--count N] [flags]\n" +
			"lsmqtt node --demo [--count N] [--duration 1h] [flags]\n" +
			"lsmqtt node --medium HOST:PORT --creds-dir DIR [flags]",
		Description: "Each mote samples vital signs, seals every reading in the payload envelope and publishes it over\n" +
			"MQTT-SN (ward/<area>/patient/<group>/vitals, alarms at QoS 1 on .../alarm). Energy is accounted\n" +
			"Energest-style for every frame, crypto operation, sensor sample and the idle time.\n\n" +
			"--udp drives any MQTT-SN gateway over plain UDP; frames are then ESTIMATED from datagram sizes\n" +
			"(one-hop 6LoWPAN to a border router, see node/mote). --demo runs an area in process (Trusted System,\n" +
			"gateway, embedded broker, 6LoWPAN/RPL mesh) on a virtual clock: --duration of emulated time runs as\n" +
			"fast as the host allows. --medium joins a `lsmqtt medium` over ZEP. Live counters: --stats-interval\n" +
			"or SIGUSR1. At the end: an energy report per node (--json for tools).",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "count", Value: 1, EnvVars: env("COUNT"), Usage: "number of motes"},
			&cli.StringFlag{Name: "prefix", Value: "z1-", EnvVars: env("PREFIX"), Usage: "client id prefix; ids are PREFIX0001, PREFIX0002, ..."},
			&cli.IntFlag{Name: "first", Value: 1, EnvVars: env("FIRST"), Usage: "number of the first mote"},
			&cli.StringFlag{Name: "udp", EnvVars: env("UDP"), Usage: "MQTT-SN gateway host:port to drive over plain UDP"},
			&cli.StringFlag{Name: "medium", EnvVars: env("MEDIUM"), Usage: "ZEP address host:port of a `lsmqtt medium`: motes join its mesh"},
			&cli.BoolFlag{Name: "demo", EnvVars: env("DEMO"), Usage: "run an in-process area (TS, gateway, broker, mesh) and auto-register the motes"},
			&cli.BoolFlag{Name: "demo-udp", EnvVars: env("DEMO_UDP"), Usage: "with --demo: reach the gateway over loopback UDP instead of the mesh"},
			&cli.StringFlag{Name: "broker-listen", EnvVars: env("BROKER_LISTEN"), Usage: "with --demo: MQTT listener of the embedded broker (e.g. 127.0.0.1:1883) to watch with mosquitto_sub"},
			&cli.StringFlag{Name: "registry", EnvVars: env("REGISTRY"), Usage: "with --demo: TS registry file (default: a temporary one)"},
			&cli.BoolFlag{Name: "real-time", EnvVars: env("REAL_TIME"), Usage: "with --demo: run on the real clock instead of the virtual one"},
			&cli.Float64Flag{Name: "spacing", Value: 30, EnvVars: env("SPACING"), Usage: "with --demo: metres between motes on the grid around the border router"},
			&cli.Float64Flag{Name: "range", Value: medium.DefaultRange, EnvVars: env("RANGE"), Usage: "with --demo: radio range in metres (unit disk)"},
			&cli.StringFlag{Name: "mobility", Value: "none", EnvVars: env("MOBILITY"), Usage: "with --demo on the mesh: none, or waypoint (patients walk, random waypoint, over a floor twice the grid's size)"},
			&cli.StringFlag{Name: "routes", EnvVars: env("ROUTES"), Usage: "with --demo on the mesh: JSON file of scripted routes by node id (see node/mobility.RoutesFile)"},
			&cli.StringFlag{Name: "creds-dir", EnvVars: env("CREDS_DIR"), Usage: "directory of credential files from `lsmqtt ts register` (ID.json, ID.cred or ID)"},
			&cli.BoolFlag{Name: "open", EnvVars: env("OPEN"), Usage: "no Trusted System: seal with a static test key derived from the credential file, or send plaintext without one"},
			&cli.StringFlag{Name: "suite", Value: aead.Default, EnvVars: env("SUITE"), Usage: "payload suite: ascon128, aes128-ccm8 or paper-xor (insecure, only when named)"},
			&cli.StringFlag{Name: "profile", Value: profile.Default, EnvVars: env("PROFILE"), Usage: "mote profile: " + strings.Join(profile.Names(), ", ") + ", or a JSON profile file"},
			&cli.Float64Flag{Name: "derating", EnvVars: env("DERATING"), Usage: "usable fraction of the battery, (0,1] (default: the profile's)"},
			&cli.StringFlag{Name: "scenario", Value: "stable", EnvVars: env("SCENARIO"), Usage: "patient scenario: " + strings.Join(sensors.Scenarios(), ", ")},
			&cli.StringFlag{Name: "area", EnvVars: env("AREA"), Usage: "topic area segment (default: the demo area's number, else 1)"},
			&cli.DurationFlag{Name: "publish-interval", Value: time.Minute, EnvVars: env("PUBLISH_INTERVAL"), Usage: "period of the routine vitals record"},
			&cli.DurationFlag{Name: "pulse-ox-interval", Value: 30 * time.Second, EnvVars: env("PULSE_OX_INTERVAL"), Usage: "period of pulse-oximeter readings"},
			&cli.DurationFlag{Name: "temperature-interval", Value: time.Minute, EnvVars: env("TEMPERATURE_INTERVAL"), Usage: "period of thermometer readings"},
			&cli.DurationFlag{Name: "ecg-batch", EnvVars: env("ECG_BATCH"), Usage: "publish ECG batches of this length (0: no ECG stream)"},
			&cli.IntFlag{Name: "ecg-hz", Value: 250, EnvVars: env("ECG_HZ"), Usage: "ECG sample rate"},
			&cli.IntFlag{Name: "qos", Value: 0, EnvVars: env("QOS"), Usage: "QoS of routine readings (0-2)"},
			&cli.IntFlag{Name: "alarm-qos", Value: 1, EnvVars: env("ALARM_QOS"), Usage: "QoS of alarms (0-2)"},
			&cli.BoolFlag{Name: "ignore-overheard", EnvVars: env("IGNORE_OVERHEARD"), Usage: "do not charge RX energy for frames overheard from neighbours (duty-cycled radio)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, EnvVars: env("SEED"), Usage: "seed of patients, radio and mesh"},
			&cli.DurationFlag{Name: "duration", EnvVars: env("DURATION"), Usage: "run this long (emulated time on the virtual clock; default 1h there, until interrupted otherwise)"},
			&cli.DurationFlag{Name: "stats-interval", EnvVars: env("STATS_INTERVAL"), Usage: "print live per-node counters this often (also on SIGUSR1)"},
			&cli.BoolFlag{Name: "json", EnvVars: env("JSON"), Usage: "print the final report as JSON on stdout (live counters go to stderr)"},
		},
		Action:      runNode,
		Subcommands: []*cli.Command{nodeMeasureCommand()},
	})
}

func nodeMeasureCommand() *cli.Command {
	env := func(n string) []string { return []string{"LSMQTT_NODE_MEASURE_" + n} }
	return &cli.Command{
		Name:  "measure",
		Usage: "measure per-transaction energy by running the emulator, and evaluate lifetimes with it",
		Description: "For each suite: an in-process area (TS, gateway, broker, 6LoWPAN/RPL mesh) on a virtual clock, a\n" +
			"publishing and a subscribing mote one hop from the border router; N transactions (seal, publish at\n" +
			"QoS 1, deliver, open), minus a background window of the same length without transactions, give the\n" +
			"per-transaction energies; the setup (admission, key delivery, subscribe) is measured separately.\n" +
			"The result feeds node/eval's emulated model ('lsmqtt energy' shows the modelled one); cb-dtls is\n" +
			"not run (no DTLS here) and stays modelled. See node/measure.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "suite", EnvVars: env("SUITE"), Usage: "suites to measure: paper-xor, ascon128, aes128-ccm8 (default all three)"},
			&cli.IntFlag{Name: "transactions", Value: 20, EnvVars: env("TRANSACTIONS"), Usage: "transactions per suite"},
			&cli.DurationFlag{Name: "spacing", Value: 10 * time.Second, EnvVars: env("SPACING"), Usage: "emulated time between transactions"},
			&cli.IntFlag{Name: "qos", Value: 1, EnvVars: env("QOS"), Usage: "QoS of the publish and the subscription (0-2)"},
			&cli.BoolFlag{Name: "udp", EnvVars: env("UDP"), Usage: "run over loopback UDP with estimated frames instead of the mesh"},
			&cli.DurationFlag{Name: "settle", Value: 30 * time.Minute, EnvVars: env("SETTLE"), Usage: "emulated time the mesh runs before measuring"},
			&cli.BoolFlag{Name: "count-overheard", EnvVars: env("COUNT_OVERHEARD"), Usage: "charge frames overheard from neighbours (always-listening radio)"},
			&cli.IntFlag{Name: "session", Value: 100, EnvVars: env("SESSION"), Usage: "transactions per session: the measured setup is spread over this many"},
			&cli.StringFlag{Name: "profile", Value: profile.Default, EnvVars: env("PROFILE"), Usage: "mote profile: " + strings.Join(profile.Names(), ", ") + ", or a JSON profile file"},
			&cli.Float64Flag{Name: "derating", EnvVars: env("DERATING"), Usage: "usable fraction of the battery, (0,1]"},
			&cli.Float64SliceFlag{Name: "rate", EnvVars: env("RATE"), Usage: "transactions per hour to show lifetimes for"},
			&cli.Uint64Flag{Name: "seed", Value: 1, EnvVars: env("SEED"), Usage: "seed of patients, radio and mesh"},
			&cli.BoolFlag{Name: "json", EnvVars: env("JSON"), Usage: "print the measurements and the evaluation as JSON"},
			&cli.StringFlag{Name: "plot", EnvVars: env("PLOT"), Usage: "write the evaluation's PNG charts into this directory"},
		},
		Action: runNodeMeasure,
	}
}

func runNodeMeasure(c *cli.Context) error {
	p, err := profileFlag(c)
	if err != nil {
		return err
	}
	schemes, err := schemesFlag(c)
	if err != nil {
		return err
	}
	q := c.Int("qos")
	if q < 0 || q > 2 {
		return fmt.Errorf("--qos %d: want 0, 1 or 2", q)
	}
	res, err := measure.Run(c.Context, measure.Config{Profile: p, Schemes: schemes, Transactions: c.Int("transactions"),
		Spacing: c.Duration("spacing"), QoS: mqttsn.QoS(q), NoDefaultQoS: true, UDP: c.Bool("udp"),
		Settle: c.Duration("settle"), CountOverheard: c.Bool("count-overheard"), SessionTx: c.Int("session"),
		Seed: c.Uint64("seed"), Logger: logger})
	if err != nil {
		return err
	}
	evSchemes := schemes
	if len(evSchemes) == 0 {
		evSchemes = eval.Schemes()
	}
	rep, err := eval.Evaluate(eval.Config{Profile: p, Schemes: evSchemes, Rates: c.Float64Slice("rate"),
		Payload: sensors.RecordLen, SessionTx: c.Int("session"),
		Source: measure.NewSource(res, eval.NewModel(p, sensors.RecordLen))})
	if err != nil {
		return err
	}
	if err := plotFlag(c, rep); err != nil {
		return err
	}
	out := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Measurements []measure.Result `json:"measurements"`
			Evaluation   *eval.Report     `json:"evaluation"`
		}{res, rep})
	}
	fmt.Fprintln(out, "== measured by the emulator (per transaction, mJ) ==")
	fmt.Fprintf(out, "%12s %9s %9s %9s %9s %14s %12s %14s\n", "scheme", "encrypt", "transmit", "receive", "decrypt", "setup pub/sub", "transaction", "background mW")
	for _, r := range res {
		f := r.Figures
		fmt.Fprintf(out, "%12s %9.4f %9.4f %9.4f %9.4f %7.2f/%-6.2f %12.4f %14.4f\n", r.Scheme, f.Encrypt.EnergyMJ,
			f.Transmit.EnergyMJ, f.Receive.EnergyMJ, f.Decrypt.EnergyMJ, f.SetupPublisher.EnergyMJ, f.SetupSubscriber.EnergyMJ,
			f.TransactionMJ(), r.BackgroundPowerMW)
	}
	if len(res) > 0 {
		for _, n := range res[0].Figures.Notes {
			fmt.Fprintln(out, "  -", n)
		}
	}
	fmt.Fprintln(out)
	return rep.WriteText(out)
}

func runNode(c *cli.Context) error {
	ctx := c.Context
	p, err := profileFlag(c)
	if err != nil {
		return err
	}
	modes := 0
	for _, s := range []string{"udp", "medium", "demo"} {
		if c.IsSet(s) {
			modes++
		}
	}
	if modes != 1 {
		return errors.New("give exactly one of --udp, --medium and --demo")
	}
	mc := mote.Config{
		Profile: p, Scenario: c.String("scenario"), Suite: c.String("suite"), Area: c.String("area"),
		PublishInterval: c.Duration("publish-interval"), PulseOxInterval: c.Duration("pulse-ox-interval"),
		TemperatureInterval: c.Duration("temperature-interval"), ECGBatch: c.Duration("ecg-batch"), ECGHz: c.Int("ecg-hz"),
		RoutineQoS: mqttsn.QoS(c.Int("qos")), AlarmQoS: mqttsn.QoS(c.Int("alarm-qos")), NoDefaultQoS: true,
		IgnoreOverheard: c.Bool("ignore-overheard"),
	}
	if _, err := aead.Lookup(mc.Suite, aead.Options{AllowInsecure: true}); err != nil {
		return fmt.Errorf("--suite: %w", err)
	}
	if _, err := sensors.Scenario(mc.Scenario, 0); err != nil {
		return fmt.Errorf("--scenario: %w", err)
	}
	fc := fleet.Config{Count: c.Int("count"), Prefix: c.String("prefix"), First: c.Int("first"),
		CredDir: c.String("creds-dir"), Seed: c.Uint64("seed"), Logger: logger, Spacing: c.Float64("spacing")}
	if c.Bool("open") {
		mc.Protection = mote.ProtectNone
		if fc.CredDir != "" {
			mc.Protection = mote.ProtectStatic
		}
	}
	dur := c.Duration("duration")
	switch {
	case c.IsSet("udp"):
		fc.UDP = c.String("udp")
	case c.IsSet("medium"):
		fc.ZEP = c.String("medium")
	default:
		var clk clock.Clock = clock.Real{}
		if !c.Bool("real-time") {
			clk = clock.NewVirtual(time.Now().Truncate(time.Second))
			if dur <= 0 {
				dur = time.Hour
			}
		}
		reg := c.String("registry")
		if reg == "" {
			dir, err := os.MkdirTemp("", "lsmqtt-node-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			reg = filepath.Join(dir, "ts.db")
		}
		a, err := area.Start(ctx, area.Config{UDP: c.Bool("demo-udp"), Mesh: !c.Bool("demo-udp"), TS: !c.Bool("open"),
			RegistryPath: reg, AllowInsecure: mc.Suite == aead.NamePaperXOR, BrokerTCP: c.String("broker-listen"),
			MediumConfig: medium.Config{Range: c.Float64("range"), Seed: c.Uint64("seed")}, Clock: clk, Logger: logger})
		if err != nil {
			return err
		}
		defer a.Close()
		if mc.Area == "" {
			mc.Area = fmt.Sprint(a.Number())
		}
		fc.Area, fc.Clock, fc.Register = a, clk, !c.Bool("open")
		if c.Bool("demo-udp") {
			fc.AreaUDP = true
		}
		logger.Info("demo area running", "gateway", a.Name(), "mesh", !c.Bool("demo-udp"), "ts", !c.Bool("open"),
			"broker", c.String("broker-listen"), "virtual_clock", !c.Bool("real-time"))
	}
	if err := nodeMobility(c, &fc); err != nil {
		return err
	}
	fc.Mote = mc
	f, err := fleet.New(fc)
	if err != nil {
		return err
	}
	defer f.Close()

	out := c.App.Writer
	live := out
	if c.Bool("json") {
		live = c.App.ErrWriter
	}
	printStats := func() { _ = fleet.WriteStats(live, f.Stats()) }
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			select {
			case <-sctx.Done():
				return
			case <-usr1:
				printStats()
			}
		}
	}()
	logger.Info("motes starting", "count", fc.Count, "transport", f.Motes()[0].Transport().Kind(), "duration", dur)
	if err := f.Run(ctx, dur, c.Duration("stats-interval"), printStats); err != nil {
		return err
	}
	stop()
	return writeNodeReport(out, f.Report(), c.Bool("json"))
}

// nodeMobility sets the fleet's mobility from --mobility and --routes.
func nodeMobility(c *cli.Context, fc *fleet.Config) error {
	mode, file := c.String("mobility"), c.String("routes")
	if mode == "none" && file == "" {
		return nil
	}
	if fc.Area == nil || fc.AreaUDP {
		return errors.New("--mobility and --routes need --demo on the mesh")
	}
	switch {
	case file != "":
		fh, err := os.Open(file)
		if err != nil {
			return err
		}
		routes, _, err := mobility.ReadRoutes(fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("--routes: %w", err)
		}
		fc.Mobility = func(_ int, id string, _ medium.Position) mobility.Model {
			if r, ok := routes[id]; ok {
				return r
			}
			return nil
		}
	case mode == "waypoint":
		half := fleet.GridPosition(0, fc.Count, fc.Spacing)
		ext := 2*max(-half.X, -half.Y) + 2*fc.Spacing
		plan := &mobility.Plan{Bounds: mobility.Room{Min: mobility.Point{X: -ext, Y: -ext}, Max: mobility.Point{X: ext, Y: ext}}}
		seed := c.Uint64("seed")
		var ferr error
		fc.Mobility = func(n int, _ string, home medium.Position) mobility.Model {
			w, err := mobility.NewRandomWaypoint(mobility.WaypointConfig{Plan: plan, Start: &home, Seed: seed + uint64(n)})
			if err != nil {
				ferr = err
				return nil
			}
			return w
		}
		return ferr
	default:
		return fmt.Errorf("--mobility %q: want none or waypoint", mode)
	}
	return nil
}

func writeNodeReport(w io.Writer, r *fleet.Report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return r.WriteText(w)
}
