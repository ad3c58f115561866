package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/internal/loadgen"
	"github.com/lsmqtt/lsmqtt/internal/loadgen/inproc"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func init() {
	env := func(name string) []string {
		return []string{"LSMQTT_BENCH_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
	}
	register(&cli.Command{
		Name:  "bench",
		Usage: "load-test any MQTT-SN gateway over UDP, or measure the machine's raw UDP ceiling",
		Description: "MQTT-SN mode (--gateway): N clients, each with its own UDP socket and client id, send a CONNECT\n" +
			"burst, REGISTER (normal topics), then PUBLISH at QoS -1/0/1/2, paced (--rate, total msg/s) or\n" +
			"unpaced, for --duration or --count messages. --sub-mqtt or --sub-mqttsn counts end-to-end delivery.\n" +
			"Raw mode (--raw): N sender sockets send datagrams into one sink socket read with recvmmsg; the\n" +
			"sink's rate is the ceiling. --raw-baseline measures it first, with this run's datagram size and\n" +
			"client count, and states every throughput as a fraction of it.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "gateway", Aliases: []string{"g"}, EnvVars: env("gateway"),
				Usage: "MQTT-SN gateway UDP address host:port"},
			&cli.IntFlag{Name: "clients", Aliases: []string{"n"}, Value: 1, EnvVars: env("clients"),
				Usage: "publishing clients, each with its own UDP socket and client id"},
			&cli.StringFlag{Name: "client-prefix", Value: "lsb-", EnvVars: env("client-prefix"),
				Usage: "client id prefix (the client's index follows; 23 octets at most)"},
			&cli.DurationFlag{Name: "keepalive", Value: 10 * time.Minute, EnvVars: env("keepalive"),
				Usage: "CONNECT keep-alive duration"},
			&cli.IntFlag{Name: "qos", Aliases: []string{"q"}, Value: 0, EnvVars: env("qos"),
				Usage: "PUBLISH QoS: -1 (needs predefined or short topic; no CONNECT), 0, 1 or 2"},
			&cli.StringFlag{Name: "topic-type", Value: "normal", EnvVars: env("topic-type"),
				Usage: "topic id type: normal (REGISTER first), predefined (--topic-id) or short (--topic of 2 chars)"},
			&cli.StringFlag{Name: "topic", EnvVars: env("topic"),
				Usage: `topic name ("%d" = client index; default lsmqtt/bench) or short topic name (default "lb")`},
			&cli.UintFlag{Name: "topic-id", EnvVars: env("topic-id"),
				Usage: "pre-defined topic id (with --topic-type predefined)"},
			&cli.IntFlag{Name: "payload", Aliases: []string{"s"}, Value: 32, EnvVars: env("payload"),
				Usage: "PUBLISH payload octets (>= 16 carries the send time and sequence for end-to-end counting)"},
			&cli.Float64Flag{Name: "rate", Aliases: []string{"r"}, EnvVars: env("rate"),
				Usage: "total offered rate in messages/s across all clients (0: unpaced)"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Value: 10 * time.Second, EnvVars: env("duration"),
				Usage: "length of the publish phase (ignored when only --count is given)"},
			&cli.Int64Flag{Name: "count", Aliases: []string{"c"}, EnvVars: env("count"),
				Usage: "messages to publish in total (0: bounded by --duration)"},
			&cli.IntFlag{Name: "window", Aliases: []string{"w"}, Value: 1, EnvVars: env("window"),
				Usage: "QoS 1/2 messages in flight per client"},
			&cli.DurationFlag{Name: "retry-timeout", Value: time.Second, EnvVars: env("retry-timeout"),
				Usage: "resend a QoS 1/2 message (DUP), REGISTER or subscriber request after this long without answer"},
			&cli.IntFlag{Name: "max-retries", Value: 3, EnvVars: env("max-retries"),
				Usage: "resends before a message counts as lost"},
			&cli.DurationFlag{Name: "connect-timeout", Value: 5 * time.Second, EnvVars: env("connect-timeout"),
				Usage: "how long the CONNECT burst waits for CONNACKs before resending to the unanswered"},
			&cli.IntFlag{Name: "connect-retries", Value: 2, EnvVars: env("connect-retries"),
				Usage: "CONNECT resends after the burst"},
			&cli.DurationFlag{Name: "drain", Value: 2 * time.Second, EnvVars: env("drain"),
				Usage: "wait at most this long after the last PUBLISH for acks and deliveries"},
			&cli.IntFlag{Name: "batch", Value: 32, EnvVars: env("batch"),
				Usage: "QoS -1/0 datagrams per sendmmsg when several are due"},
			&cli.IntFlag{Name: "senders", EnvVars: env("senders"),
				Usage: "goroutines sending the QoS -1/0 PUBLISHes of all clients (0: GOMAXPROCS/2, at least 1)"},
			&cli.IntFlag{Name: "sockbuf", Value: 1 << 20, EnvVars: env("sockbuf"),
				Usage: "socket buffer bytes per client socket (forced past rmem_max when permitted)"},
			&cli.StringFlag{Name: "sub-mqtt", EnvVars: env("sub-mqtt"),
				Usage: "count end-to-end delivery by subscribing at this broker over MQTT v5 (mqtt://host:port)"},
			&cli.BoolFlag{Name: "sub-mqttsn", EnvVars: env("sub-mqttsn"),
				Usage: "count end-to-end delivery by subscribing through the gateway over MQTT-SN"},
			&cli.IntFlag{Name: "sub-qos", Value: -1, EnvVars: env("sub-qos"),
				Usage: "subscription QoS 0..2 (-1: the publish QoS)"},
			&cli.StringFlag{Name: "sub-topic", EnvVars: env("sub-topic"),
				Usage: `subscription topic filter (default: --topic with "%d" as "+"; required over MQTT for predefined ids)`},
			&cli.BoolFlag{Name: "raw", EnvVars: env("raw"),
				Usage: "raw mode only: measure the UDP ceiling, no gateway"},
			&cli.BoolFlag{Name: "raw-baseline", EnvVars: env("raw-baseline"),
				Usage: "measure the raw ceiling first and state throughputs as fractions of it"},
			&cli.DurationFlag{Name: "raw-duration", Value: 3 * time.Second, EnvVars: env("raw-duration"),
				Usage: "raw measurement length"},
			&cli.IntFlag{Name: "raw-senders", EnvVars: env("raw-senders"),
				Usage: "raw sender sockets (default: --clients)"},
			&cli.IntFlag{Name: "raw-size", EnvVars: env("raw-size"),
				Usage: "raw datagram octets (default: this run's PUBLISH datagram size)"},
			&cli.Float64Flag{Name: "raw-rate", EnvVars: env("raw-rate"),
				Usage: "raw offered datagrams/s in total (0: unpaced, the ceiling)"},
			&cli.IntFlag{Name: "raw-workers", EnvVars: env("raw-workers"),
				Usage: "goroutines driving the raw sender sockets (0: GOMAXPROCS minus readers, at least 1)"},
			&cli.IntFlag{Name: "raw-readers", Value: 1, EnvVars: env("raw-readers"),
				Usage: "goroutines reading the raw sink socket"},
			&cli.StringFlag{Name: "raw-sink", EnvVars: env("raw-sink"),
				Usage: "raw sink bind address (default 127.0.0.1:0, or [::1]:0 for an IPv6 gateway)"},
			&cli.BoolFlag{Name: "embedded", EnvVars: env("embedded"),
				Usage: "run against an in-process lsmqtt gateway with its embedded broker (no --gateway needed; --sub-mqtt defaults to that broker)"},
			&cli.IntFlag{Name: "gateway-sockets", Value: 1, EnvVars: env("gateway-sockets"),
				Usage: "with --embedded or --suite: UDP sockets the in-process gateway serves on its port, each with its own receive loop (SO_REUSEPORT, Linux)"},
			&cli.BoolFlag{Name: "spawn", EnvVars: env("spawn"),
				Usage: "with --embedded or --suite: run each in-process gateway in a child lsmqtt process instead, so it shares the CPUs through the OS scheduler as a deployed gateway would"},
			&cli.BoolFlag{Name: "serve-embedded", Hidden: true,
				Usage: "start an embedded gateway, announce its addresses on stdout, serve until interrupted (used by --spawn)"},
			&cli.BoolFlag{Name: "suite", EnvVars: env("suite"),
				Usage: "run the standard set (QoS 0 paced/unpaced, QoS 1 with 1 and 100 clients, 2,000-CONNECT burst) against --embedded gateways and print a table; --duration is each scenario's publish phase"},
			&cli.IntFlag{Name: "handover", EnvVars: env("handover"),
				Usage: "measure session handover instead: this many moves of one node between two in-process areas (gateway + peering + embedded broker), HO-RESUME → first message delivered to the new area's MQTT subscriber, p50/p99 (--qos is the node's publish QoS)"},
			&cli.BoolFlag{Name: "handover-wait-resumed", EnvVars: env("handover-wait-resumed"),
				Usage: "with --handover: the node publishes only after HO-RESUMED (default: right behind HO-RESUME)"},
			&cli.StringFlag{Name: "cpuprofile", EnvVars: env("cpuprofile"),
				Usage: "write a CPU profile of this process (generator, and with --embedded/--suite the gateway and broker) to this file"},
			&cli.BoolFlag{Name: "json", EnvVars: env("json"),
				Usage: "print the result as JSON"},
		},
		Action: runBench,
	})
}

func runBench(c *cli.Context) error {
	if f := c.String("cpuprofile"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var raw *loadgen.RawConfig
	if c.Bool("raw") || c.Bool("raw-baseline") {
		raw = &loadgen.RawConfig{
			Sink: c.String("raw-sink"), Senders: c.Int("raw-senders"), Size: c.Int("raw-size"),
			Rate: c.Float64("raw-rate"), Duration: c.Duration("raw-duration"), Readers: c.Int("raw-readers"),
			Workers: c.Int("raw-workers"), Batch: c.Int("batch"), Logger: logger,
		}
	}
	if c.Bool("raw") {
		if raw.Senders <= 0 {
			raw.Senders = c.Int("clients")
		}
		if raw.Size <= 0 {
			raw.Size = mqttsn.MessageLen(5 + c.Int("payload"))
		}
		if c.IsSet("count") {
			raw.Count = c.Int64("count")
			if !c.IsSet("raw-duration") {
				raw.Duration = 0
			}
		}
		res, err := loadgen.RunRaw(c.Context, *raw)
		if err != nil {
			return err
		}
		return printBench(c, res, res.WriteText)
	}

	if c.Bool("serve-embedded") {
		in, err := inproc.Start(c.Context, inproc.Config{Addr: c.String("gateway"), Sockets: c.Int("gateway-sockets"), Logger: logger})
		if err != nil {
			return err
		}
		defer in.Close()
		if err := in.Announce(os.Stdout); err != nil {
			return err
		}
		<-c.Context.Done()
		return nil
	}
	if c.Bool("suite") {
		return runSuite(c)
	}
	if n := c.Int("handover"); n > 0 {
		qos := 1
		if c.IsSet("qos") {
			qos = c.Int("qos")
		}
		// The gateways log every move at info level: only their warnings.
		res, err := inproc.RunHandover(c.Context, inproc.HandoverConfig{Moves: n, QoS: qos,
			WaitForResumed: c.Bool("handover-wait-resumed"), Logger: slog.New(minLevel{logger.Handler(), slog.LevelWarn})})
		if err != nil && res == nil {
			return err
		}
		if perr := printBench(c, res, res.WriteText); perr != nil {
			return perr
		}
		return err
	}
	var stats func() loadgen.GatewayStats
	if c.Bool("embedded") {
		t, err := benchTarget(c)
		if err != nil {
			return err
		}
		defer t.Stop()
		stats = t.Stats
		if err := c.Set("gateway", t.Gateway); err != nil {
			return err
		}
		if !c.IsSet("sub-mqtt") && !c.Bool("sub-mqttsn") {
			if err := c.Set("sub-mqtt", t.Broker); err != nil {
				return err
			}
		}
	}
	cfg, err := benchConfig(c)
	if err != nil {
		return err
	}
	cfg.GatewayStats = stats
	res, err := loadgen.Run(c.Context, cfg, raw)
	if err != nil && res == nil {
		return err
	}
	if perr := printBench(c, res, res.WriteText); perr != nil {
		return perr
	}
	return err
}

// runSuite runs the standard set, each scenario against a fresh in-process
// gateway, after one raw ceiling measurement.
func runSuite(c *cli.Context) error {
	d := c.Duration("duration")
	raw := loadgen.RawConfig{Senders: c.Int("raw-senders"), Size: c.Int("raw-size"), Duration: c.Duration("raw-duration"),
		Readers: c.Int("raw-readers"), Workers: c.Int("raw-workers"), Batch: c.Int("batch"), Logger: logger}
	start := func(context.Context) (loadgen.Target, error) { return benchTarget(c) }
	scs := loadgen.StandardSuite(d)
	for i := range scs {
		scs[i].Config.Logger = logger
	}
	sr, err := loadgen.RunSuite(c.Context, scs, start, raw)
	if err != nil && sr == nil {
		return err
	}
	if perr := printBench(c, sr, sr.WriteTable); perr != nil {
		return perr
	}
	return err
}

// benchTarget starts an embedded gateway in this process, or with --spawn
// in a child process.
func benchTarget(c *cli.Context) (loadgen.Target, error) {
	if c.Bool("spawn") {
		exe, err := os.Executable()
		if err != nil {
			return loadgen.Target{}, err
		}
		return inproc.Spawn(c.Context, exe, "--log-level", c.String("log-level"), "bench", "--serve-embedded",
			"--gateway-sockets", strconv.Itoa(c.Int("gateway-sockets")))
	}
	in, err := inproc.Start(c.Context, inproc.Config{Sockets: c.Int("gateway-sockets"), Logger: logger})
	if err != nil {
		return loadgen.Target{}, err
	}
	return in.Target(), nil
}

func benchConfig(c *cli.Context) (loadgen.Config, error) {
	cfg := loadgen.Config{
		Gateway: c.String("gateway"), Clients: c.Int("clients"), ClientIDPrefix: c.String("client-prefix"),
		KeepAlive: c.Duration("keepalive"), QoS: c.Int("qos"), Topic: c.String("topic"),
		PayloadSize: c.Int("payload"), Rate: c.Float64("rate"), Duration: c.Duration("duration"),
		Count: c.Int64("count"), Window: c.Int("window"), RetryTimeout: c.Duration("retry-timeout"),
		MaxRetries: c.Int("max-retries"), ConnectTimeout: c.Duration("connect-timeout"),
		ConnectRetries: c.Int("connect-retries"), Drain: c.Duration("drain"), Batch: c.Int("batch"), Senders: c.Int("senders"),
		SockBuf: c.Int("sockbuf"), SubMQTT: c.String("sub-mqtt"), SubMQTTSN: c.Bool("sub-mqttsn"),
		SubQoS: c.Int("sub-qos"), SubTopic: c.String("sub-topic"), Logger: logger,
	}
	if cfg.Gateway == "" {
		return cfg, fmt.Errorf("--gateway is required (or --raw for the raw ceiling only)")
	}
	if cfg.Count > 0 && !c.IsSet("duration") {
		cfg.Duration = 0
	}
	switch c.String("topic-type") {
	case "normal":
		cfg.TopicType = mqttsn.TopicIDNormal
	case "predefined":
		cfg.TopicType = mqttsn.TopicIDPredefined
		id := c.Uint("topic-id")
		if id > 0xFFFF {
			return cfg, fmt.Errorf("--topic-id %d: want 1..65534", id)
		}
		cfg.TopicID = uint16(id)
	case "short":
		cfg.TopicType = mqttsn.TopicIDShort
	default:
		return cfg, fmt.Errorf("--topic-type %q: want normal, predefined or short", c.String("topic-type"))
	}
	return cfg, nil
}

func printBench(c *cli.Context, v any, text func(w io.Writer) error) error {
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(w)
}

// minLevel passes on records at level min or above.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
