package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

func init() {
	register(&cli.Command{
		Name:      "sub",
		Usage:     "subscribe to a topic on an MQTT-SN gateway and print what arrives (like mqtt-sn-sub)",
		UsageText: "lsmqtt sub -h HOST -p PORT -t TOPIC [-q QOS] [--repeat N] [-v] [--json]",
		Description: "Connects, subscribes (wildcards allowed for normal topics) and prints each message until\n" +
			"interrupted or --repeat messages arrived, then disconnects. -h is the host; use --help for help.",
		HideHelp: true,
		Flags: append(snFlags("SUB"),
			&cli.IntFlag{Name: "repeat", EnvVars: []string{"LSMQTT_SUB_REPEAT"},
				Usage: "exit after this many messages (0: run until interrupted)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, EnvVars: []string{"LSMQTT_SUB_VERBOSE"},
				Usage: "print the topic before each payload"},
		),
		Action: runSub,
	})
}

// subMessage is one line of `lsmqtt sub --json`.
type subMessage struct {
	Topic       string `json:"topic"`
	TopicID     uint16 `json:"topic_id"`
	TopicIDType string `json:"topic_id_type"`
	QoS         int    `json:"qos"`
	Retain      bool   `json:"retain"`
	Payload     string `json:"payload"`
}

func runSub(c *cli.Context) error {
	if c.Bool("help") {
		return cli.ShowCommandHelp(c, c.Command.Name)
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	var (
		mu    sync.Mutex
		count int
		werr  error
	)
	limit := c.Int("repeat")
	w := c.App.Writer
	enc := json.NewEncoder(w)
	onPublish := func(m client.Message) {
		mu.Lock()
		defer mu.Unlock()
		if limit > 0 && count >= limit {
			return
		}
		count++
		var err error
		switch {
		case c.Bool("json"):
			err = enc.Encode(subMessage{Topic: m.Topic, TopicID: m.TopicID, TopicIDType: m.TopicIDType.String(),
				QoS: int(m.QoS), Retain: m.Retain, Payload: string(m.Data)})
		case c.Bool("verbose"):
			_, err = fmt.Fprintf(w, "%s %s\n", m.Topic, m.Data)
		default:
			_, err = fmt.Fprintf(w, "%s\n", m.Data)
		}
		if err != nil && werr == nil {
			werr = err
		}
		if limit > 0 && count >= limit {
			cancel()
		}
	}
	limitReached := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return limit > 0 && count >= limit
	}
	lost := make(chan error, 1)
	s, err := newSNSession(c, "sub", client.Config{
		OnPublish:    onPublish,
		OnDisconnect: func(err error) { lost <- err; cancel() },
	})
	if err != nil {
		return err
	}
	defer s.close()
	if s.qos == mqttsn.QoSMinus1 {
		return fmt.Errorf("--qos -1 is for publishing only")
	}
	if err := s.c.Connect(ctx); err != nil {
		return fmt.Errorf("connect to %v: %w", s.c.Gateway(), err)
	}
	sub, err := s.c.Subscribe(ctx, s.topic, s.qos)
	switch {
	case err != nil && !limitReached():
		return fmt.Errorf("subscribe %s: %w", s.topic, err)
	case err != nil:
		// --repeat was met by messages that came right behind the
		// SUBACK, before Subscribe returned: its cancel ended the wait.
		logger.Debug("subscribed; --repeat met before the answer was read", "topic", s.topic.String())
	default:
		logger.Debug("subscribed", "topic", s.topic.String(), "granted_qos", int(sub.QoS), "topic_id", sub.TopicID)
	}
	<-ctx.Done()
	select {
	case err := <-lost:
		return fmt.Errorf("connection lost: %w", err)
	default:
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 2*c.Duration("retry"))
	defer dcancel()
	if err := s.c.Disconnect(dctx); err != nil {
		logger.Debug("disconnect", "err", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return werr
}
