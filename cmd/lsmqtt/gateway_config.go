package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
)

// `lsmqtt gateway` configuration: flags, LSMQTT_GATEWAY_* environment
// variables and a TOML file (--config) whose keys are the flag names. The
// command line wins over the environment, which wins over the file.

func gwEnv(name string) []string {
	return []string{"LSMQTT_GATEWAY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

// gatewayFlags lists the command's flags. Every one but --config may also be
// set in the config file.
func gatewayFlags() []cli.Flag {
	str := func(name, value, usage string) cli.Flag {
		return altsrc.NewStringFlag(&cli.StringFlag{Name: name, Value: value, EnvVars: gwEnv(name), Usage: usage})
	}
	strs := func(name string, value []string, usage string) cli.Flag {
		var v *cli.StringSlice
		if value != nil {
			v = cli.NewStringSlice(value...)
		}
		return altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: name, Value: v, EnvVars: gwEnv(name), Usage: usage})
	}
	num := func(name string, value int, usage string) cli.Flag {
		return altsrc.NewIntFlag(&cli.IntFlag{Name: name, Value: value, EnvVars: gwEnv(name), Usage: usage})
	}
	dur := func(name string, value time.Duration, usage string) cli.Flag {
		return altsrc.NewDurationFlag(&cli.DurationFlag{Name: name, Value: value, EnvVars: gwEnv(name), Usage: usage})
	}
	flag := func(name, usage string) cli.Flag {
		return altsrc.NewBoolFlag(&cli.BoolFlag{Name: name, EnvVars: gwEnv(name), Usage: usage})
	}
	return append([]cli.Flag{
		&cli.StringFlag{Name: "config", EnvVars: gwEnv("config"),
			Usage: "TOML config file; its keys are these flag names (see docs/deploy.md)"},
		strs("listen", []string{":1883"}, "UDP address(es) for MQTT-SN; \":1883\" is IPv4 and IPv6 (repeatable)"),
		num("sockets", 1, "UDP sockets per --listen address, bound with SO_REUSEPORT (Linux): the kernel spreads the clients over them, each read by its own loop"),
		str("broker", "embedded", "\"embedded\" (in-process broker), or an MQTT v5 broker: mqtt://host:port, mqtts://host:port"),
		str("broker-mode", "aggregating", "external broker: \"aggregating\" (one connection) or \"transparent\" (one per client)"),
		str("broker-client-id", "", "client id of the external broker connection (default lsmqtt-gw-<random>; with --state, derived from the host and the state file, the same at every restart)"),
		num("max-queued", 10000, "external broker: messages kept while it is unreachable; beyond, clients get \"congestion\""),
		str("mqtt-listen", broker.DefaultTCPAddr, "embedded broker: MQTT TCP listener for ordinary MQTT clients (\"\" for none)"),
		num("gateway-id", 1, "GwId in ADVERTISE and GWINFO (1-255)"),
		dur("advertise-interval", 15*time.Minute, "time between ADVERTISE messages (negative: never)"),
		strs("advertise-addr", nil, "broadcast or multicast UDP address ADVERTISE is sent to, e.g. 255.255.255.255:1883 or [ff02::1]:1883 (repeatable)"),
		strs("predefined", nil, "pre-defined topic ID=NAME, e.g. 1=ward/3/bed/12/hr (repeatable)"),
		num("max-clients", 10000, "clients at once; beyond, CONNACK \"rejected: congestion\""),
		num("max-half-open", 0, "connects waiting on their client (will flow, Trusted System admission) at once; beyond, CONNACK \"rejected: congestion\" (0: a tenth of --max-clients, at least 64)"),
		num("connect-rate", 0, "CONNECTs per second from one source address (bursts of twice that); beyond, dropped unanswered and counted (0: no limit)"),
		num("max-inflight", 16, "unacknowledged QoS 1/2 messages per client and direction"),
		num("max-buffered", 100, "messages buffered for a sleeping or busy client"),
		num("max-datagram", 1024, "largest MQTT-SN datagram accepted or sent (octets)"),
		dur("session-expiry", time.Hour, "how long a persistent (CleanSession=0) session outlives its client"),
		dur("retry-interval", 10*time.Second, "Tretry: wait for an acknowledgement before retransmitting"),
		num("max-retries", 3, "Nretry: retransmissions before a client is considered lost"),
		str("metrics", "", "HTTP address for Prometheus /metrics and /healthz (e.g. 127.0.0.1:9100; empty: off)"),
		flag("pprof", "also serve /debug/pprof on the --metrics address"),
		str("state", "", "session state file (bbolt): sessions, queued and in-flight messages survive a restart or kill -9"),
		flag("open", "admit every client without the Trusted System (the default when --ts is not given)"),
		str("ts", "", "Trusted System UDP address: admit only clients it vouches for and relay key requests"),
		str("ts-cred", "", "this gateway's credential file from `lsmqtt ts register --gateway` (with --ts)"),
	}, peeringFlags()...) // gateway_peering.go: --peer, --name, --peer-listen, --peer-keys, --token-ttl
}

// gatewayOptions is the validated configuration of one `lsmqtt gateway`.
type gatewayOptions struct {
	listen       []string
	sockets      int    // per listen address (gateway.ListenUDP)
	brokerURL    string // "" for embedded
	mode         broker.Mode
	brokerID     string
	maxQueued    int
	mqttListen   string
	cfg          gateway.Config
	metricsAddr  string
	pprof        bool
	stateFile    string
	tsAddr       string
	tsCred       string
	embeddedSess time.Duration
	peerListen   string // with cfg.Peering: the peer socket (gateway_peering.go)
}

// gatewayOptionsFrom validates the flags and builds the options.
func gatewayOptionsFrom(c *cli.Context) (*gatewayOptions, error) {
	o := &gatewayOptions{
		listen:      c.StringSlice("listen"),
		sockets:     c.Int("sockets"),
		brokerID:    c.String("broker-client-id"),
		maxQueued:   c.Int("max-queued"),
		mqttListen:  c.String("mqtt-listen"),
		metricsAddr: c.String("metrics"),
		pprof:       c.Bool("pprof"),
		stateFile:   c.String("state"),
		tsAddr:      c.String("ts"),
		tsCred:      c.String("ts-cred"),
	}
	if len(o.listen) == 0 {
		return nil, errors.New("--listen: at least one UDP address")
	}
	switch b := c.String("broker"); {
	case b == "embedded" || b == "":
	default:
		if _, err := broker.ParseBrokerURL(b); err != nil {
			return nil, fmt.Errorf("--broker: %w", err)
		}
		o.brokerURL = b
	}
	mode, err := broker.ParseMode(c.String("broker-mode"))
	if err != nil {
		return nil, fmt.Errorf("--broker-mode: %w", err)
	}
	o.mode = mode
	if o.brokerURL == "" && c.IsSet("broker-mode") && mode != broker.Aggregating {
		return nil, errors.New("--broker-mode transparent needs an external --broker mqtt://…")
	}
	peering, err := peeringFrom(c)
	if err != nil {
		return nil, err
	}
	o.peerListen = c.String("peer-listen")
	if o.pprof && o.metricsAddr == "" {
		return nil, errors.New("--pprof needs --metrics ADDR")
	}
	if c.Bool("open") && o.tsAddr != "" {
		return nil, errors.New("--open and --ts exclude each other")
	}
	if o.tsAddr != "" && o.tsCred == "" {
		return nil, errors.New("--ts needs --ts-cred FILE (this gateway's credentials)")
	}
	if o.tsCred != "" && o.tsAddr == "" {
		return nil, errors.New("--ts-cred needs --ts ADDR")
	}
	gid := c.Int("gateway-id")
	if gid < 1 || gid > 255 {
		return nil, fmt.Errorf("--gateway-id %d: want 1-255", gid)
	}
	for _, name := range []string{"max-clients", "max-inflight", "max-buffered", "max-datagram", "max-retries", "max-queued", "sockets"} {
		if c.Int(name) <= 0 {
			return nil, fmt.Errorf("--%s %d: must be positive", name, c.Int(name))
		}
	}
	for _, name := range []string{"connect-rate", "max-half-open"} {
		if c.Int(name) < 0 {
			return nil, fmt.Errorf("--%s %d: must not be negative", name, c.Int(name))
		}
	}
	for _, name := range []string{"session-expiry", "retry-interval"} {
		if c.Duration(name) <= 0 {
			return nil, fmt.Errorf("--%s %v: must be positive", name, c.Duration(name))
		}
	}
	predef, err := parsePredefined(c.StringSlice("predefined"))
	if err != nil {
		return nil, err
	}
	var adv []net.Addr
	for _, a := range c.StringSlice("advertise-addr") {
		ua, err := net.ResolveUDPAddr("udp", a)
		if err != nil {
			return nil, fmt.Errorf("--advertise-addr %q: %w", a, err)
		}
		adv = append(adv, ua)
	}
	advInterval := c.Duration("advertise-interval")
	if advInterval == 0 {
		advInterval = -1 // 0 means "default" to the gateway; the flag's 0 means off
	}
	o.cfg = gateway.Config{
		GatewayID:         byte(gid),
		AdvertiseInterval: advInterval,
		AdvertiseAddrs:    adv,
		PredefinedTopics:  predef,
		RetryInterval:     c.Duration("retry-interval"),
		MaxRetries:        c.Int("max-retries"),
		MaxClients:        c.Int("max-clients"),
		MaxHalfOpen:       c.Int("max-half-open"),
		MaxInflight:       c.Int("max-inflight"),
		MaxBuffered:       c.Int("max-buffered"),
		MaxDatagram:       c.Int("max-datagram"),
		SessionExpiry:     c.Duration("session-expiry"),
		ConnectRate:       float64(c.Int("connect-rate")),
	}
	o.cfg.Peering = peering
	o.embeddedSess = o.cfg.SessionExpiry
	return o, nil
}

// parsePredefined parses ID=NAME pairs (MQTT-SN v1.2 §6.7).
func parsePredefined(pairs []string) (map[uint16]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[uint16]string, len(pairs))
	names := make(map[string]uint16, len(pairs))
	for _, p := range pairs {
		idS, name, ok := strings.Cut(p, "=")
		id, err := strconv.ParseUint(strings.TrimSpace(idS), 0, 16)
		name = strings.TrimSpace(name)
		switch {
		case !ok || err != nil || name == "":
			return nil, fmt.Errorf("--predefined %q: want ID=NAME, ID 1-65534", p)
		case id == 0 || id == 0xFFFF:
			return nil, fmt.Errorf("--predefined %q: topic id %d is reserved (MQTT-SN v1.2 §5.3.11)", p, id)
		case !broker.ValidTopicName(name):
			return nil, fmt.Errorf("--predefined %q: invalid topic name", p)
		}
		if old, dup := m[uint16(id)]; dup && old != name {
			return nil, fmt.Errorf("--predefined: id %d given twice (%q, %q)", id, old, name)
		}
		if other, dup := names[name]; dup && other != uint16(id) {
			return nil, fmt.Errorf("--predefined: topic %q has two ids (%d, %d)", name, other, id)
		}
		m[uint16(id)] = name
		names[name] = uint16(id)
	}
	return m, nil
}

// checkConfigFile rejects a config file that is not TOML or has a key that
// names no flag (a typo would otherwise be ignored silently).
func checkConfigFile(path string, flags []cli.Flag) error {
	var m map[string]any
	if _, err := toml.DecodeFile(path, &m); err != nil {
		return fmt.Errorf("--config %s: %w", path, err)
	}
	known := map[string]bool{}
	for _, f := range flags {
		for _, n := range f.Names() {
			known[n] = true
		}
	}
	var bad []string
	for k := range m {
		if !known[k] || k == "config" {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("--config %s: unknown key(s) %s (keys are the flag names, e.g. listen, broker, max-clients)", path, strings.Join(bad, ", "))
	}
	return nil
}

// gatewayBefore loads the config file, when given, under the flags.
func gatewayBefore(flags []cli.Flag) cli.BeforeFunc {
	load := altsrc.InitInputSourceWithContext(flags, altsrc.NewTomlSourceFromFlagFunc("config"))
	return func(c *cli.Context) error {
		if !c.IsSet("config") {
			return nil
		}
		if err := checkConfigFile(c.String("config"), flags); err != nil {
			return err
		}
		return load(c)
	}
}

// newGatewayBroker builds the broker adapter the options ask for.
func (o *gatewayOptions) newBroker(log *slog.Logger, onState func(broker.State)) (gatewayBroker, string, error) {
	if o.brokerURL == "" {
		e, err := broker.NewEmbedded(broker.EmbeddedConfig{
			TCPAddr:       o.mqttListen,
			SessionExpiry: o.embeddedSess,
			Logger:        log.With("component", "mqtt-broker"),
		})
		if err != nil {
			return nil, "", err
		}
		return e, "embedded", nil
	}
	clientID := o.brokerID
	if clientID == "" && o.stateFile != "" {
		// The broker session to resume is that of the last run's client
		// id: without --broker-client-id, one derived from the host and
		// the state file, the same at every restart.
		clientID = stateClientID(o.stateFile)
	}
	e, err := broker.NewExternal(broker.ExternalConfig{
		URL:           o.brokerURL,
		Mode:          o.mode,
		ClientID:      clientID,
		MaxQueued:     o.maxQueued,
		SessionExpiry: o.embeddedSess,
		// With --state the gateway survives kill -9: it resumes its broker
		// session (what mosquitto kept meanwhile arrives), and a QoS 1/2
		// PUBACK means the broker has the message, not the memory queue.
		ResumeSession: o.stateFile != "",
		SyncPublish:   o.stateFile != "",
		OnStateChange: onState,
		Logger:        log.With("component", "broker-adapter"),
	})
	if err != nil {
		return nil, "", err
	}
	return e, o.mode.String(), nil
}

// stateClientID is the default broker client id of a gateway with a state
// file: "lsmqtt-gw-" and 8 hex digits of a hash of the host name and the
// file's absolute path.
func stateClientID(stateFile string) string {
	host, _ := os.Hostname()
	if abs, err := filepath.Abs(stateFile); err == nil {
		stateFile = abs
	}
	sum := sha256.Sum256([]byte(host + "\x00" + stateFile))
	return "lsmqtt-gw-" + hex.EncodeToString(sum[:4])
}

// gatewayBroker is what the command needs of an adapter beyond broker.Broker.
type gatewayBroker interface {
	broker.Broker
	broker.StatsSource
	SetDeliver(broker.DeliverFunc)
}
