package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

func init() {
	register(&cli.Command{
		Name:  "medium",
		Usage: "run the emulated 802.15.4 radio medium (ZEP over UDP) that lsmqtt nodes and border routers attach to",
		Description: "Nodes send each 802.15.4 frame as a ZEP v2 datagram to --listen; the medium forwards it to\n" +
			"every node in radio range (unit disk from --topology positions, or explicit links), with seeded\n" +
			"loss and delay. Edit the topology file while it runs to move nodes.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:17754", EnvVars: []string{"LSMQTT_MEDIUM_LISTEN"},
				Usage: "UDP address to receive ZEP datagrams on (17754 is Wireshark's ZEP port)"},
			&cli.StringFlag{Name: "topology", EnvVars: []string{"LSMQTT_MEDIUM_TOPOLOGY"},
				Usage: "JSON topology file (node positions, explicit links); re-read when it changes"},
			&cli.DurationFlag{Name: "reload", Value: time.Second, EnvVars: []string{"LSMQTT_MEDIUM_RELOAD"},
				Usage: "how often to check the topology file for changes"},
			&cli.Uint64Flag{Name: "seed", Value: 1, EnvVars: []string{"LSMQTT_MEDIUM_SEED"},
				Usage: "seed of every random draw (loss, jitter)"},
			&cli.StringFlag{Name: "model", Value: "disk", EnvVars: []string{"LSMQTT_MEDIUM_MODEL"},
				Usage: "who hears whom: disk (positions and range) or links (explicit links only)"},
			&cli.Float64Flag{Name: "range", Value: medium.DefaultRange, EnvVars: []string{"LSMQTT_MEDIUM_RANGE"},
				Usage: "unit-disk radio range in metres"},
			&cli.Float64Flag{Name: "edge-loss", EnvVars: []string{"LSMQTT_MEDIUM_EDGE_LOSS"},
				Usage: "loss probability at the edge of the range (grows with distance squared)"},
			&cli.Float64Flag{Name: "loss", EnvVars: []string{"LSMQTT_MEDIUM_LOSS"},
				Usage: "extra loss probability applied to every delivery (0..1)"},
			&cli.DurationFlag{Name: "delay", EnvVars: []string{"LSMQTT_MEDIUM_DELAY"},
				Usage: "delay added to each frame's airtime"},
			&cli.DurationFlag{Name: "jitter", EnvVars: []string{"LSMQTT_MEDIUM_JITTER"},
				Usage: "uniform random extra delay per delivery (order is kept)"},
			&cli.StringFlag{Name: "pcap", EnvVars: []string{"LSMQTT_MEDIUM_PCAP"},
				Usage: "write every frame carried to this pcap file"},
			&cli.StringFlag{Name: "pcap-format", Value: "wpan", EnvVars: []string{"LSMQTT_MEDIUM_PCAP_FORMAT"},
				Usage: "pcap link type: wpan (802.15.4 with FCS) or zep (IPv4/UDP/ZEP, shows the ZEP layer)"},
			&cli.DurationFlag{Name: "stats-interval", EnvVars: []string{"LSMQTT_MEDIUM_STATS_INTERVAL"},
				Usage: "log medium counters this often (0: only at exit)"},
			&cli.BoolFlag{Name: "json", EnvVars: []string{"LSMQTT_MEDIUM_JSON"},
				Usage: "print the final counters as JSON on stdout"},
		},
		Action: runMedium,
	})
}

// mediumStarted, when set (by tests), is told the address the medium
// serves on once it listens.
var mediumStarted func(net.Addr)

func runMedium(c *cli.Context) error {
	cfg := medium.Config{
		Seed: c.Uint64("seed"), Range: c.Float64("range"), EdgeLoss: c.Float64("edge-loss"),
		Loss: c.Float64("loss"), Delay: c.Duration("delay"), Jitter: c.Duration("jitter"), Logger: logger,
	}
	switch c.String("model") {
	case "disk":
	case "links":
		cfg.Model = medium.ModelLinks
	default:
		return fmt.Errorf("--model %q: want disk or links", c.String("model"))
	}
	if p := c.String("pcap"); p != "" {
		format, err := medium.ParseCaptureFormat(c.String("pcap-format"))
		if err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		capture, err := medium.NewPcapCapture(f, format, 0)
		if err != nil {
			return err
		}
		cfg.Capture = capture
	}
	m := medium.New(cfg)
	defer m.Close()
	if p := c.String("topology"); p != "" {
		if err := m.LoadTopologyFile(p); err != nil {
			return err
		}
		go m.WatchTopologyFile(c.Context, p, c.Duration("reload"), logger)
	}
	laddr, err := net.ResolveUDPAddr("udp", c.String("listen"))
	if err != nil {
		return err
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	logger.Info("medium listening", "addr", conn.LocalAddr().String(), "seed", cfg.Seed, "model", c.String("model"))
	if iv := c.Duration("stats-interval"); iv > 0 {
		go func() {
			t := time.NewTicker(iv)
			defer t.Stop()
			for {
				select {
				case <-c.Context.Done():
					return
				case <-t.C:
					s := m.Stats()
					logger.Info("medium stats", "frames", s.Frames, "octets", s.Octets, "links", len(s.Links), "bad", s.Bad)
				}
			}
		}()
	}
	started := make(chan struct{})
	go func() {
		<-started
		if mediumStarted != nil {
			mediumStarted(conn.LocalAddr())
		}
	}()
	err = m.ServeUDP(c.Context, conn, started)
	s := m.Stats()
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(s.Report()); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		logger.Info("medium stopped", "frames", s.Frames, "octets", s.Octets, "bad", s.Bad)
	}
	return err
}
