package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/node/hospital"
)

func init() {
	register(&cli.Command{
		Name:  "sim",
		Usage: "simulate a hospital: areas, a Trusted System, patients wearing z1 motes who walk between wards",
		Description: "Runs everything in one process on embedded defaults: one MQTT-SN gateway and broker per area behind\n" +
			"a 6LoWPAN/RPL border router, the Trusted System, M emulated z1 motes on the emulated radio mesh\n" +
			"publishing sealed vital signs, and a caregivers' station that opens them. Prints a summary: delivery\n" +
			"ratio, latency, handovers, energy and lifetime per node, control overhead (RPL, MQTT-SN, TS) counted\n" +
			"from the frames on the air. --transport udp skips the radio (frames estimated) for very large runs.\n" +
			"Flags override the scenario file. See docs/hospital.md.",
		Flags:  simFlags("SIM"),
		Action: runSim,
	})
}

func simFlags(env string) []cli.Flag {
	e := func(n string) []string { return []string{"LSMQTT_" + env + "_" + n} }
	return []cli.Flag{
		&cli.StringFlag{Name: "scenario", EnvVars: e("SCENARIO"), Usage: "TOML scenario file (node/hospital/scenarios/*.toml)"},
		&cli.IntFlag{Name: "areas", EnvVars: e("AREAS"), Usage: "number of areas (wards) (default 2, or the scenario's)"},
		&cli.IntFlag{Name: "patients", EnvVars: e("PATIENTS"), Usage: "number of patients (default 4, or the scenario's)"},
		&cli.StringFlag{Name: "mobility", EnvVars: e("MOBILITY"), Usage: "waypoint, script (from the scenario file) or static"},
		&cli.DurationFlag{Name: "dwell", EnvVars: e("DWELL"), Usage: "mean stay in a ward before walking on (default 2m)"},
		&cli.DurationFlag{Name: "rate", EnvVars: e("RATE"), Usage: "publish interval of each mote (default 10s)"},
		&cli.StringFlag{Name: "handover", EnvVars: e("HANDOVER"),
			Usage: "how nodes change wards: handover (the gateways' session handover, HO-RESUME; default) or reconnect (a full connect at the new gateway)"},
		&cli.IntFlag{Name: "qos", Value: -1, EnvVars: e("QOS"), Usage: "QoS of the vitals, 0 or 1 (alarms always QoS 1) (default 1)"},
		&cli.StringFlag{Name: "suite", EnvVars: e("SUITE"), Usage: "payload cipher: ascon128 (default), aes128-ccm8, paper-xor"},
		&cli.Float64Flag{Name: "loss", Value: -1, EnvVars: e("LOSS"), Usage: "fraction of datagrams lost between motes and gateways (default 0)"},
		&cli.DurationFlag{Name: "duration", EnvVars: e("DURATION"), Usage: "simulated time (default 5m)"},
		&cli.Uint64Flag{Name: "seed", EnvVars: e("SEED"), Usage: "seed of every random draw (default 1, or the scenario's)"},
		&cli.BoolFlag{Name: "realtime", EnvVars: e("REALTIME"), Usage: "run in real time instead of on the virtual clock"},
		&cli.BoolFlag{Name: "json", EnvVars: e("JSON"), Usage: "print the summary as JSON"},
		&cli.StringFlag{Name: "plot", EnvVars: e("PLOT"), Usage: "write PNG charts into this directory"},
		&cli.StringFlag{Name: "transport", EnvVars: e("TRANSPORT"),
			Usage: "mesh (default: every mote on the emulated 6LoWPAN/RPL mesh, a border router per ward) or udp (loopback UDP, frames estimated; the fast option for very large runs)"},
		&cli.StringFlag{Name: "pcap", EnvVars: e("PCAP"),
			Usage: "write every radio frame to this pcap file (IEEE 802.15.4 with FCS, for Wireshark; mesh transport)"},
		&cli.StringFlag{Name: "compare", EnvVars: e("COMPARE"), Usage: "run variants side by side: suites, qos, mobility (moving vs static), handover,reconnect or transport (mesh vs udp)"},
		&cli.StringFlag{Name: "broker-listen", EnvVars: e("BROKER_LISTEN"),
			Usage: "expose each area's broker over MQTT from this address on, one port per area (host:port; port 0: ephemeral), for lsmqtt monitor"},
		&cli.StringFlag{Name: "ts-listen", EnvVars: e("TS_LISTEN"), Usage: "serve the Trusted System over UDP here, for lsmqtt monitor"},
		&cli.StringFlag{Name: "caregiver-out", EnvVars: e("CAREGIVER_OUT"),
			Usage: "write a caregiver credential file granted every patient (mode 0600), for lsmqtt monitor"},
		&cli.IntFlag{Name: "nodes", Value: 20, EnvVars: e("NODES"), Usage: "per-node rows in the text summary (0: all)"},
		&cli.BoolFlag{Name: "no-progress", EnvVars: e("NO_PROGRESS"), Usage: "no progress bar"},
	}
}

// scenarioFromFlags loads the scenario file (if any) and applies the flags.
func scenarioFromFlags(c *cli.Context) (*hospital.Scenario, error) {
	sc := &hospital.Scenario{Seed: 1}
	if f := c.String("scenario"); f != "" {
		var err error
		if sc, err = hospital.LoadScenario(f); err != nil {
			return nil, err
		}
	}
	if c.IsSet("areas") {
		sc.Areas, sc.AreaCount = nil, c.Int("areas")
	}
	if c.IsSet("patients") {
		sc.Patients = c.Int("patients")
	}
	if c.IsSet("mobility") {
		sc.Mobility.Model = c.String("mobility")
	}
	if c.IsSet("dwell") {
		sc.Mobility.Dwell.Duration = c.Duration("dwell")
	}
	if c.IsSet("rate") {
		sc.PublishInterval.Duration = c.Duration("rate")
	}
	if c.IsSet("handover") {
		sc.Handover = c.String("handover")
	}
	if q := c.Int("qos"); q >= 0 {
		sc.QoS = &q
	}
	if c.IsSet("suite") {
		sc.Suite = c.String("suite")
	}
	if l := c.Float64("loss"); l >= 0 {
		sc.Loss = l
	}
	if c.IsSet("duration") {
		sc.Duration.Duration = c.Duration("duration")
	}
	if c.IsSet("transport") {
		sc.Transport = c.String("transport")
	}
	if c.IsSet("seed") {
		sc.Seed = c.Uint64("seed")
	}
	return sc, sc.Defaults()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runSim(c *cli.Context) error {
	sc, err := scenarioFromFlags(c)
	if err != nil {
		return err
	}
	pcapPath := c.String("pcap")
	if pcapPath != "" && sc.Transport != hospital.TransportMesh {
		return fmt.Errorf("--pcap needs the mesh transport (over --transport udp there is no radio to capture)")
	}
	if pcapPath != "" && c.String("compare") != "" {
		return fmt.Errorf("--pcap captures one run, not a --compare")
	}
	out := c.App.Writer
	var progress io.Writer
	if !c.Bool("no-progress") && isTerminal(c.App.ErrWriter) && !c.Bool("json") {
		progress = c.App.ErrWriter
	}
	if cmp := c.String("compare"); cmp != "" {
		return runCompare(c, sc, cmp, progress)
	}
	cfg := hospital.Config{Scenario: sc, Virtual: !c.Bool("realtime"), Progress: progress, Logger: logger,
		TSAddr: c.String("ts-listen"), CaregiverFile: c.String("caregiver-out")}
	if bl := c.String("broker-listen"); bl != "" {
		if cfg.BrokerTCP, err = brokerAddrs(bl, len(sc.Areas)); err != nil {
			return err
		}
	}
	if cfg.BrokerTCP != nil || cfg.TSAddr != "" {
		cfg.Started = func(s *hospital.Sim) {
			var bs []string
			for i, a := range s.BrokerAddrs() {
				bs = append(bs, "--broker "+s.AreaName(i)+"=mqtt://"+a)
			}
			fmt.Fprintf(c.App.ErrWriter, "sim: watch it with\n  lsmqtt monitor --creds %s --ts %s %s\n",
				cfg.CaregiverFile, s.TSAddr(), strings.Join(bs, " "))
		}
	}
	if pcapPath != "" {
		f, err := os.OpenFile(pcapPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<16)
		cfg.Pcap = bw
		defer func() {
			if err := bw.Flush(); err != nil {
				logger.Error("sim: pcap", "err", err)
			}
			if err := f.Close(); err != nil {
				logger.Error("sim: pcap", "err", err)
			}
		}()
	}
	sum, err := hospital.Run(c.Context, cfg)
	if err != nil {
		return err
	}
	if pcapPath != "" && !c.Bool("json") {
		fmt.Fprintf(c.App.ErrWriter, "pcap: %s (tshark -r %s -d udp.port==1883,mqttsn; see docs/hospital.md)\n", pcapPath, pcapPath)
	}
	if d := c.String("plot"); d != "" {
		files, err := hospital.Plot(sum, d)
		if err != nil {
			return err
		}
		if !c.Bool("json") {
			fmt.Fprintf(c.App.ErrWriter, "charts: %s\n", strings.Join(files, ", "))
		}
	}
	if c.Bool("json") {
		return sum.WriteJSON(out)
	}
	return sum.WriteText(out, c.Int("nodes"))
}

// runCompare runs the scenario once per variant and prints them side by side.
func runCompare(c *cli.Context, base *hospital.Scenario, what string, progress io.Writer) error {
	variants, err := hospital.Variants(base, what)
	if err != nil {
		return err
	}
	var sums []*hospital.Summary
	for _, v := range variants {
		if progress != nil {
			fmt.Fprintf(progress, "%s:\n", v.Label)
		}
		start := time.Now()
		sum, err := hospital.Run(c.Context, hospital.Config{Scenario: v.Scenario, Virtual: !c.Bool("realtime"),
			Progress: progress, Logger: logger})
		if err != nil {
			return fmt.Errorf("%s: %w", v.Label, err)
		}
		logger.Debug("sim: variant done", "variant", v.Label, "wall", time.Since(start))
		sums = append(sums, sum)
	}
	if c.Bool("json") {
		return hospital.WriteCompareJSON(c.App.Writer, variants, sums)
	}
	return hospital.WriteCompare(c.App.Writer, variants, sums)
}

// brokerAddrs gives each of n areas a listen address from base: consecutive
// ports, or all ephemeral when base's port is 0.
func brokerAddrs(base string, n int) ([]string, error) {
	host, port, err := net.SplitHostPort(base)
	if err != nil {
		return nil, fmt.Errorf("--broker-listen: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p+n > 65535 {
		return nil, fmt.Errorf("--broker-listen: bad port %q", port)
	}
	out := make([]string, n)
	for i := range out {
		q := p
		if p != 0 {
			q = p + i
		}
		out[i] = net.JoinHostPort(host, strconv.Itoa(q))
	}
	return out, nil
}
