package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/trust/monitor"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

func init() {
	register(&cli.Command{
		Name:  "monitor",
		Usage: "the caregiver's view: subscribe to area brokers, open the envelopes with keys from the TS, show each patient live",
		Description: "Connects to one or more MQTT brokers (the areas' embedded brokers, or any broker the gateways\n" +
			"publish to), fetches from the Trusted System the keys the caregiver's access list allows, and shows\n" +
			"per patient the latest vital signs, the area the data came through, when it was last seen, gaps\n" +
			"(sequence numbers that never arrived) and alarms. The table is redrawn on a terminal, printed as\n" +
			"plain blocks otherwise; --json prints one line per message instead.\n\n" +
			"  lsmqtt monitor --creds nurse.cred --broker A=mqtt://127.0.0.1:1883 --broker B=mqtt://127.0.0.1:1884",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "broker", Required: true, EnvVars: []string{"LSMQTT_MONITOR_BROKER"},
				Usage: "an area broker, mqtt://host:port, optionally labelled: NAME=mqtt://host:port (repeat)"},
			&cli.StringFlag{Name: "creds", Required: true, EnvVars: []string{"LSMQTT_MONITOR_CREDS"},
				Usage: "the caregiver's credential file (lsmqtt ts register --caregiver NAME --out FILE)"},
			&cli.StringFlag{Name: "ts", EnvVars: []string{"LSMQTT_MONITOR_TS"},
				Usage: "the Trusted System's UDP address (default: the one in the credential file)"},
			&cli.StringSliceFlag{Name: "filter", EnvVars: []string{"LSMQTT_MONITOR_FILTER"},
				Usage: "MQTT topic filters (default ward/+/patient/+/#)"},
			&cli.DurationFlag{Name: "interval", Value: time.Second, EnvVars: []string{"LSMQTT_MONITOR_INTERVAL"},
				Usage: "how often the table is redrawn (plain output: every 10 intervals)"},
			&cli.DurationFlag{Name: "duration", EnvVars: []string{"LSMQTT_MONITOR_DURATION"},
				Usage: "stop after this long (default: until interrupted)"},
			&cli.BoolFlag{Name: "allow-insecure-paper-xor", EnvVars: []string{"LSMQTT_MONITOR_ALLOW_INSECURE"},
				Usage: "open paper-xor envelopes (the paper's insecure scheme, for reproductions only)"},
			&cli.BoolFlag{Name: "json", EnvVars: []string{"LSMQTT_MONITOR_JSON"}, Usage: "one JSON line per message, no table"},
		},
		Action: runMonitor,
	})
}

func parseBrokers(specs []string) ([]monitor.Broker, error) {
	var out []monitor.Broker
	for _, s := range specs {
		for _, one := range strings.Split(s, ",") {
			one = strings.TrimSpace(one)
			if one == "" {
				continue
			}
			b := monitor.Broker{URL: one}
			if i := strings.Index(one, "="); i > 0 && !strings.Contains(one[:i], "/") {
				b.Label, b.URL = one[:i], one[i+1:]
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--broker: no broker")
	}
	return out, nil
}

func runMonitor(c *cli.Context) error {
	brokers, err := parseBrokers(c.StringSlice("broker"))
	if err != nil {
		return err
	}
	creds, err := tsclient.LoadCredentials(c.String("creds"))
	if err != nil {
		return err
	}
	defer creds.Wipe()
	tsAddr := c.String("ts")
	if tsAddr == "" {
		tsAddr = creds.TS
	}
	if tsAddr == "" {
		return errors.New("--ts: the credential file names no Trusted System; give its address")
	}
	ua, err := net.ResolveUDPAddr("udp", tsAddr)
	if err != nil {
		return fmt.Errorf("--ts: %w", err)
	}
	tsc, err := tsclient.NewClient(tsclient.ClientConfig{TS: ua, Logger: logger})
	if err != nil {
		return err
	}
	defer tsc.Close()
	reader, err := tsclient.NewReader(tsclient.ReaderConfig{Creds: creds, Exchanger: tsc,
		AllowInsecure: c.Bool("allow-insecure-paper-xor"), Logger: logger})
	if err != nil {
		return err
	}
	defer reader.Close()

	ctx := c.Context
	if d := c.Duration("duration"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	out := c.App.Writer
	var outMu sync.Mutex
	mcfg := monitor.Config{Opener: reader, Logger: logger}
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		mcfg.OnEvent = func(e monitor.Event) {
			outMu.Lock()
			_ = enc.Encode(e)
			outMu.Unlock()
		}
	}
	mon := monitor.New(mcfg)
	src := &monitor.MQTTSource{Brokers: brokers, Filters: c.StringSlice("filter"), Logger: logger,
		Handle: func(ctx context.Context, area, topic string, payload []byte) {
			_ = mon.Handle(ctx, area, topic, payload)
		},
		OnConnect: func(area string, err error) {
			if err != nil {
				logger.Warn("monitor: broker", "area", area, "err", err)
			} else {
				logger.Info("monitor: subscribed", "area", area)
			}
		}}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	if c.Bool("json") {
		return <-done
	}
	tty := isTerminal(out)
	iv := c.Duration("interval")
	if iv <= 0 {
		iv = time.Second
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	n := 0
	draw := func() {
		title := fmt.Sprintf("lsmqtt monitor — %s — %d broker(s), %d key(s)", creds.Name, len(brokers), reader.Keys())
		_ = monitor.Render(out, mon.Patients(), mon.Stats(), monitor.RenderOptions{ANSI: tty, Title: title, Now: time.Now()})
		if !tty {
			fmt.Fprintln(out)
		}
	}
	for {
		select {
		case err := <-done:
			draw()
			return err
		case <-t.C:
			n++
			if tty || n%10 == 0 {
				draw()
			}
		}
	}
}
