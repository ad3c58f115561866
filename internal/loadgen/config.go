package loadgen

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Config configures an MQTT-SN load run. Zero fields take the defaults noted
// beside them.
type Config struct {
	// Gateway is the MQTT-SN gateway's UDP address, host:port.
	Gateway string
	// Clients is the number of publishing clients, each with its own UDP
	// socket and client id (default 1).
	Clients int
	// ClientIDPrefix prefixes each client's index to form its client id
	// (default "lsb-"); ids must stay within 23 octets (MQTT-SN v1.2 §5.3.1).
	ClientIDPrefix string
	// KeepAlive is the CONNECT Duration (default 10 minutes, §5.4.4).
	KeepAlive time.Duration

	// QoS is -1, 0, 1 or 2. QoS -1 needs a pre-defined topic id or a short
	// topic name and sends no CONNECT (MQTT-SN v1.2 §6.8).
	QoS int
	// TopicType is normal (REGISTER first, §6.5), pre-defined or short.
	TopicType mqttsn.TopicIDType
	// Topic is the topic name (normal; "%d" is replaced by the client's
	// index) or the two-character short topic name (default "lsmqtt/bench"
	// for normal, "lb" for short).
	Topic string
	// TopicID is the pre-defined topic id (TopicIDPredefined only).
	TopicID uint16
	// PayloadSize is the PUBLISH data size in octets (default 32). Payloads
	// of at least StampLen octets carry a send timestamp and sequence number,
	// needed for end-to-end counting.
	PayloadSize int

	// Rate is the total offered rate in messages/s across all clients; 0
	// publishes unpaced.
	Rate float64
	// Duration bounds the publish phase; Count bounds the number of messages
	// in total. At least one must be set.
	Duration time.Duration
	Count    int64
	// Window is the number of QoS 1/2 messages each client keeps in flight
	// (default 1).
	Window int
	// RetryTimeout is how long a QoS 1/2 message (or a CONNECT, REGISTER)
	// waits for its answer before it is sent again with DUP set (default
	// 1 s; MQTT-SN v1.2 §6.13 T_retry). MaxRetries bounds the resends
	// (default 3); after that the message counts as lost.
	RetryTimeout time.Duration
	MaxRetries   int
	// ConnectTimeout is how long the CONNECT burst waits for CONNACKs before
	// resending to the clients not yet answered (default 5 s); ConnectRetries
	// bounds those resends (default 2).
	ConnectTimeout time.Duration
	ConnectRetries int
	// Drain is how long to wait after the last PUBLISH for outstanding acks
	// and deliveries (default 2 s).
	Drain time.Duration
	// Batch is the number of QoS -1/0 PUBLISHes one sendmmsg carries when
	// several are due at once (default 32).
	Batch int
	// Senders is the number of goroutines that send the QoS -1/0 PUBLISHes
	// of all clients (default GOMAXPROCS/2, at least 1). QoS 1/2 clients
	// each send from their own goroutine, clocked by their acknowledgements.
	Senders int
	// SockBuf is the socket buffer size requested for every client socket
	// (default 1 MiB) and, times 8, for MQTT-SN subscriber sockets.
	SockBuf int

	// SubMQTT is a broker URL (mqtt://host:port or tcp://host:port) to
	// subscribe to over MQTT v5 (paho.golang) for end-to-end counting.
	SubMQTT string
	// SubMQTTSN subscribes through the gateway itself over MQTT-SN.
	SubMQTTSN bool
	// SubQoS is the subscription QoS, 0..2; negative means the publish QoS
	// (at least 0).
	SubQoS int
	// SubTopic overrides the subscription: an MQTT topic filter for
	// SubMQTT, a topic name or filter for SubMQTTSN. By default it is Topic
	// with "%d" replaced by "+" (a short topic name stays itself; a
	// pre-defined topic id subscribes by id over MQTT-SN and needs SubTopic
	// over MQTT).
	SubTopic string

	// GatewayStats, when set, reads the gateway's own counters before and
	// after the publish phase, for its ingest rate and drops.
	GatewayStats func() GatewayStats

	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// GatewayStats are counters a gateway keeps about itself.
type GatewayStats struct {
	PublishIn int64 // PUBLISH messages received
	Drops     int64 // datagrams and messages dropped or refused
	// CPU is the CPU time (user + system) the gateway's process has used,
	// when the gateway runs in a process of its own (0 otherwise).
	CPU time.Duration
}

func (c *Config) fill() error {
	if c.Gateway == "" {
		return errors.New("loadgen: no gateway address")
	}
	if c.Clients <= 0 {
		c.Clients = 1
	}
	if c.ClientIDPrefix == "" {
		c.ClientIDPrefix = "lsb-"
	}
	if n := len(c.ClientIDPrefix) + len(strconv.Itoa(c.Clients)); n > 23 {
		return fmt.Errorf("loadgen: client ids would be %d octets, MQTT-SN allows 23 (§5.3.1)", n)
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 10 * time.Minute
	}
	if c.KeepAlive > 0xFFFF*time.Second {
		c.KeepAlive = 0xFFFF * time.Second
	}
	if c.QoS < -1 || c.QoS > 2 {
		return fmt.Errorf("loadgen: QoS %d: want -1, 0, 1 or 2", c.QoS)
	}
	switch c.TopicType {
	case mqttsn.TopicIDNormal:
		if c.QoS == -1 {
			return errors.New("loadgen: QoS -1 needs a pre-defined topic id or a short topic name (MQTT-SN v1.2 §6.8)")
		}
		if c.Topic == "" {
			c.Topic = "lsmqtt/bench"
		}
		if strings.ContainsAny(c.Topic, "+#") {
			return fmt.Errorf("loadgen: topic %q: a PUBLISH topic must not contain wildcards", c.Topic)
		}
	case mqttsn.TopicIDShort:
		if c.Topic == "" {
			c.Topic = "lb"
		}
		if _, ok := mqttsn.ShortTopicID(c.Topic); !ok {
			return fmt.Errorf("loadgen: short topic name %q: want exactly two characters", c.Topic)
		}
	case mqttsn.TopicIDPredefined:
		if c.TopicID == 0 || c.TopicID == 0xFFFF {
			return fmt.Errorf("loadgen: pre-defined topic id %d: want 1..65534", c.TopicID)
		}
	default:
		return fmt.Errorf("loadgen: topic id type %d", c.TopicType)
	}
	if c.PayloadSize <= 0 {
		c.PayloadSize = 32
	}
	if mqttsn.MessageLen(5+c.PayloadSize) > 65507 {
		return fmt.Errorf("loadgen: payload %d octets does not fit a UDP datagram", c.PayloadSize)
	}
	if c.Rate < 0 {
		return fmt.Errorf("loadgen: rate %v < 0", c.Rate)
	}
	if c.Duration <= 0 && c.Count <= 0 {
		return errors.New("loadgen: need a duration or a count")
	}
	if c.Window <= 0 {
		c.Window = 1
	}
	if c.Window > 4096 {
		return fmt.Errorf("loadgen: window %d: at most 4096", c.Window)
	}
	if c.RetryTimeout <= 0 {
		c.RetryTimeout = time.Second
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	} else if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.ConnectRetries < 0 {
		c.ConnectRetries = 0
	} else if c.ConnectRetries == 0 {
		c.ConnectRetries = 2
	}
	if c.Drain <= 0 {
		c.Drain = 2 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.Senders <= 0 {
		c.Senders = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.SockBuf <= 0 {
		c.SockBuf = 1 << 20
	}
	if c.SubQoS < 0 {
		c.SubQoS = max(c.QoS, 0)
	}
	if c.SubQoS > 2 {
		return fmt.Errorf("loadgen: subscription QoS %d: want 0, 1 or 2", c.SubQoS)
	}
	if (c.SubMQTT != "" || c.SubMQTTSN) && c.PayloadSize < StampLen {
		return fmt.Errorf("loadgen: end-to-end counting needs payloads of at least %d octets", StampLen)
	}
	if c.SubMQTT != "" {
		if _, err := brokerAddr(c.SubMQTT); err != nil {
			return err
		}
		if c.TopicType == mqttsn.TopicIDPredefined && c.SubTopic == "" {
			return errors.New("loadgen: subscribing over MQTT to a pre-defined topic id needs the MQTT topic name (SubTopic)")
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// clientTopic is the topic name client i publishes to (normal topics).
func (c *Config) clientTopic(i int) string {
	return strings.ReplaceAll(c.Topic, "%d", strconv.Itoa(i))
}

// subFilter is the MQTT topic filter (or MQTT-SN topic name) that matches
// everything the clients publish.
func (c *Config) subFilter() string {
	if c.SubTopic != "" {
		return c.SubTopic
	}
	return strings.ReplaceAll(c.Topic, "%d", "+")
}

// DatagramSize is the size of one PUBLISH datagram this configuration sends.
func (c *Config) DatagramSize() int {
	p := c.PayloadSize
	if p <= 0 {
		p = 32
	}
	return mqttsn.MessageLen(5 + p)
}

// brokerAddr turns mqtt://host:port (or tcp://, or a bare host:port) into a
// TCP address, port 1883 by default.
func brokerAddr(u string) (string, error) {
	if !strings.Contains(u, "://") {
		u = "mqtt://" + u
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("loadgen: broker URL %q: %w", u, err)
	}
	switch pu.Scheme {
	case "mqtt", "tcp":
	default:
		return "", fmt.Errorf("loadgen: broker URL %q: scheme %q, want mqtt:// or tcp://", u, pu.Scheme)
	}
	if pu.Host == "" {
		return "", fmt.Errorf("loadgen: broker URL %q has no host", u)
	}
	if pu.Port() == "" {
		return pu.Host + ":1883", nil
	}
	return pu.Host, nil
}
