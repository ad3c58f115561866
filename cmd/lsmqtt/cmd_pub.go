package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

func init() {
	register(&cli.Command{
		Name:      "pub",
		Usage:     "publish a message to an MQTT-SN gateway (like mqtt-sn-pub)",
		UsageText: "lsmqtt pub -h HOST -p PORT -t TOPIC -m MESSAGE [-q QOS] [--repeat N]",
		Description: "Connects (except for QoS -1), registers a normal topic name if needed, publishes, and\n" +
			"disconnects. -h is the host, as in the common MQTT-SN tools; use --help for help.",
		HideHelp: true,
		Flags: append(snFlags("PUB"),
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, EnvVars: []string{"LSMQTT_PUB_MESSAGE"},
				Usage: "the message payload"},
			&cli.BoolFlag{Name: "retain", Aliases: []string{"r"}, EnvVars: []string{"LSMQTT_PUB_RETAIN"},
				Usage: "ask the broker to retain the message"},
			&cli.IntFlag{Name: "repeat", Value: 1, EnvVars: []string{"LSMQTT_PUB_REPEAT"},
				Usage: "publish the message this many times"},
			&cli.DurationFlag{Name: "interval", EnvVars: []string{"LSMQTT_PUB_INTERVAL"},
				Usage: "pause between repeated publishes"},
		),
		Action: runPub,
	})
}

// snFlags are the flags pub and sub share, in the spirit of Paho's
// mqtt-sn-pub/mqtt-sn-sub.
func snFlags(cmd string) []cli.Flag {
	env := func(name string) []string { return []string{"LSMQTT_" + cmd + "_" + name} }
	return []cli.Flag{
		&cli.BoolFlag{Name: "help", EnvVars: env("HELP"), Usage: "show help"},
		&cli.StringFlag{Name: "host", Aliases: []string{"h"}, Value: "127.0.0.1", EnvVars: env("HOST"),
			Usage: "MQTT-SN gateway host"},
		&cli.IntFlag{Name: "port", Aliases: []string{"p"}, Value: 1883, EnvVars: env("PORT"),
			Usage: "MQTT-SN gateway UDP port"},
		&cli.StringFlag{Name: "id", Aliases: []string{"i"}, EnvVars: env("ID"),
			Usage: "client id, 1-23 characters (default lsmqtt-" + strings.ToLower(cmd) + "-PID)"},
		&cli.StringFlag{Name: "topic", Aliases: []string{"t"}, EnvVars: env("TOPIC"),
			Usage: "topic name (or the two characters of a short topic)"},
		&cli.IntFlag{Name: "topic-id", Aliases: []string{"T"}, EnvVars: env("TOPIC_ID"),
			Usage: "pre-defined topic id (implies --topic-type predefined)"},
		&cli.StringFlag{Name: "topic-type", EnvVars: env("TOPIC_TYPE"),
			Usage: "normal, predefined or short (default: predefined with -T, short for 2-character topics with QoS -1, else normal)"},
		&cli.IntFlag{Name: "qos", Aliases: []string{"q"}, EnvVars: env("QOS"),
			Usage: "quality of service: -1, 0, 1 or 2"},
		&cli.IntFlag{Name: "keepalive", Aliases: []string{"k"}, Value: 10, EnvVars: env("KEEPALIVE"),
			Usage: "keep-alive in seconds"},
		&cli.BoolFlag{Name: "clean", Value: true, EnvVars: env("CLEAN"),
			Usage: "clean session (--clean=false keeps subscriptions across connections)"},
		&cli.DurationFlag{Name: "retry", Value: client.DefaultRetryInterval, EnvVars: env("RETRY"),
			Usage: "retransmission interval Tretry"},
		&cli.IntFlag{Name: "retries", Value: client.DefaultMaxRetries, EnvVars: env("RETRIES"),
			Usage: "retransmissions before giving up (Nretry)"},
		&cli.BoolFlag{Name: "debug", Aliases: []string{"d"}, EnvVars: env("DEBUG"),
			Usage: "log every MQTT-SN message sent and received"},
		&cli.BoolFlag{Name: "json", EnvVars: env("JSON"), Usage: "machine-readable output"},
	}
}

// snSession is a client connected to the gateway named by the shared flags.
type snSession struct {
	conn  net.PacketConn
	c     *client.Client
	topic client.Topic
	qos   mqttsn.QoS
}

func (s *snSession) close() {
	s.c.Close()
	s.conn.Close()
}

// newSNSession builds the client from the flags; cfg carries the callbacks.
func newSNSession(c *cli.Context, cmd string, cfg client.Config) (*snSession, error) {
	qos := c.Int("qos")
	if qos < -1 || qos > 2 {
		return nil, fmt.Errorf("--qos %d: want -1, 0, 1 or 2", qos)
	}
	topic, err := topicFromFlags(c, mqttsn.QoS(qos))
	if err != nil {
		return nil, err
	}
	gw, err := net.ResolveUDPAddr("udp", net.JoinHostPort(c.String("host"), strconv.Itoa(c.Int("port"))))
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenPacket("udp", ":0")
	if err != nil {
		return nil, err
	}
	log := logger
	if c.Bool("debug") {
		if log, err = newLogger(os.Stderr, "debug", c.String("log-format")); err != nil {
			conn.Close()
			return nil, err
		}
	}
	cfg.ClientID = c.String("id")
	if cfg.ClientID == "" {
		cfg.ClientID = "lsmqtt-" + cmd + "-" + strconv.Itoa(os.Getpid())
	}
	cfg.KeepAlive = time.Duration(c.Int("keepalive")) * time.Second
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = -1
	}
	cfg.CleanSession = c.Bool("clean")
	cfg.RetryInterval, cfg.MaxRetries = c.Duration("retry"), c.Int("retries")
	cfg.Logger = log
	return &snSession{conn: conn, c: client.New(conn, gw, cfg), topic: topic, qos: mqttsn.QoS(qos)}, nil
}

func topicFromFlags(c *cli.Context, qos mqttsn.QoS) (client.Topic, error) {
	name, id, typ := c.String("topic"), c.Int("topic-id"), c.String("topic-type")
	if typ == "" {
		switch {
		case c.IsSet("topic-id"):
			typ = "predefined"
		case qos == mqttsn.QoSMinus1 && len(name) == 2:
			typ = "short"
		default:
			typ = "normal"
		}
	}
	switch typ {
	case "normal":
		if name == "" {
			return client.Topic{}, fmt.Errorf("--topic is required for a normal topic")
		}
		return client.Named(name), nil
	case "predefined":
		if !c.IsSet("topic-id") || id < 0 || id > 0xFFFF {
			return client.Topic{}, fmt.Errorf("--topic-type predefined needs --topic-id 0..65535")
		}
		return client.Topic{Type: mqttsn.TopicIDPredefined, ID: uint16(id), Name: name}, nil
	case "short":
		if len(name) != 2 {
			return client.Topic{}, fmt.Errorf("a short topic is exactly 2 characters, got %q", name)
		}
		return client.Short(name), nil
	}
	return client.Topic{}, fmt.Errorf("--topic-type %q: want normal, predefined or short", typ)
}

func runPub(c *cli.Context) error {
	if c.Bool("help") {
		return cli.ShowCommandHelp(c, c.Command.Name)
	}
	s, err := newSNSession(c, "pub", client.Config{})
	if err != nil {
		return err
	}
	defer s.close()
	ctx := c.Context
	if s.qos != mqttsn.QoSMinus1 {
		if err := s.c.Connect(ctx); err != nil {
			return fmt.Errorf("connect to %v: %w", s.c.Gateway(), err)
		}
	}
	start := time.Now()
	published := 0
	var pubErr error
	for i := 0; i < c.Int("repeat"); i++ {
		if i > 0 && c.Duration("interval") > 0 {
			select {
			case <-time.After(c.Duration("interval")):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		if pubErr = s.c.Publish(ctx, s.topic, s.qos, c.Bool("retain"), []byte(c.String("message"))); pubErr != nil {
			break
		}
		published++
	}
	if s.qos != mqttsn.QoSMinus1 {
		dctx, cancel := context.WithTimeout(context.Background(), 2*c.Duration("retry"))
		if err := s.c.Disconnect(dctx); err != nil {
			logger.Debug("disconnect", "err", err)
		}
		cancel()
	}
	if c.Bool("json") {
		st := s.c.Stats()
		out := map[string]any{
			"published": published, "topic": s.topic.String(), "qos": int(s.qos),
			"elapsed_ms": time.Since(start).Milliseconds(), "bytes_sent": st.BytesSent,
			"bytes_received": st.BytesReceived, "datagrams_sent": st.DatagramsSent,
			"datagrams_received": st.DatagramsReceived, "retransmissions": st.Retransmissions,
		}
		if pubErr != nil {
			out["error"] = pubErr.Error()
		}
		if err := json.NewEncoder(c.App.Writer).Encode(out); err != nil {
			return err
		}
	}
	if pubErr != nil {
		return fmt.Errorf("publish: %w", pubErr)
	}
	logger.Debug("published", "count", published, "topic", s.topic.String(), "qos", int(s.qos))
	return nil
}
