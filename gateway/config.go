package gateway

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// Config configures a Gateway. The zero value of every field means its
// default (see the field); New fills them in.
type Config struct {
	// GatewayID is the GwId of ADVERTISE and GWINFO (MQTT-SN v1.2 §5.3.6).
	// Default 1.
	GatewayID byte

	// AdvertiseInterval is TADV, the time between two ADVERTISE messages
	// (§6.1). Default 15 minutes (the §7.2 best practice); negative disables
	// advertising.
	AdvertiseInterval time.Duration
	// AdvertiseAddrs are the broadcast or multicast addresses ADVERTISE is
	// sent to, through every PacketConn being served (a conn that cannot
	// reach an address is skipped). Empty: no ADVERTISE is sent.
	AdvertiseAddrs []net.Addr

	// PredefinedTopics maps pre-defined topic ids to topic names (§6.7).
	PredefinedTopics map[uint16]string

	// RetryInterval is Tretry (§6.13, §7.2): how long the gateway waits for
	// the acknowledgement of a message it sent before retransmitting it.
	// Default 10 s.
	RetryInterval time.Duration
	// MaxRetries is Nretry: retransmissions before the gateway gives up on a
	// client (it is then lost; an awake sleeping client goes back to sleep).
	// Default 3.
	MaxRetries int

	// MaxClients bounds the clients holding a slot (connecting, active,
	// asleep or awake). A CONNECT beyond it gets CONNACK "rejected:
	// congestion". Default 10000.
	MaxClients int
	// MaxHalfOpen bounds the connects waiting on their client — in the will
	// flow (§6.2), or in admission by an Authenticator other than Open —
	// which a flood from spoofed addresses could otherwise hold for
	// Tretry × (Nretry + 1) each. A CONNECT that would start one more gets
	// CONNACK "rejected: congestion", counted as drop reason "half_open".
	// Open-mode connects without a will wait only on the broker and are
	// bounded by MaxClients alone. Default: a tenth of MaxClients, at least
	// 64 (at most MaxClients).
	MaxHalfOpen int
	// MaxInflight bounds unacknowledged QoS 1/2 messages per client in each
	// direction. Beyond it, client PUBLISH gets PUBACK "rejected: congestion"
	// and deliveries wait in the client's queue. Default 16.
	MaxInflight int
	// MaxBuffered bounds the messages queued for one client that cannot take
	// them yet (asleep, window full, REGISTER outstanding). Beyond it new
	// messages are dropped and counted. Default 100.
	MaxBuffered int
	// MaxDatagram is the largest datagram accepted or sent, in octets
	// (§5.2.1). Longer ones are dropped and counted. Default 1024.
	MaxDatagram int
	// MaxTopicsPerClient bounds a client's topic registry; REGISTER or
	// SUBSCRIBE beyond it gets "rejected: congestion". Default 1024.
	MaxTopicsPerClient int

	// ConnectRate limits CONNECTs per source host (IP address, any port)
	// to this many per second, with bursts of ConnectBurst (default 2 ×
	// ConnectRate, at least 1); CONNECTs over it are dropped unanswered and
	// counted ("connect_rate"). Default 0: no limit (load generators and
	// NATs put many clients behind one address).
	ConnectRate  float64
	ConnectBurst int

	// SessionExpiry is how long the state of a client that connected without
	// CleanSession is kept after it disconnected or was lost. Default 1 hour.
	SessionExpiry time.Duration
	// KeepAliveGrace multiplies the keep-alive and sleep durations a client
	// announces before the gateway declares it lost (§6.11, §6.14, §7.2).
	// Default 1.5.
	KeepAliveGrace float64

	// BrokerTimeout bounds each call into the broker. Default 30 s.
	BrokerTimeout time.Duration
	// MaxBrokerOps bounds the broker calls in progress at once (QoS 1/2
	// publishes, subscribes, connects). Beyond it the client is told
	// "rejected: congestion". Default 4096.
	MaxBrokerOps int

	// Authenticator admits clients between CONNECT and CONNACK. Default
	// Open (every client is admitted).
	Authenticator Authenticator
	// Extensions handle extension message types (e.g. the Trusted System's
	// 0xA0–0xAF, handover's 0xB0–0xBF) arriving from clients.
	Extensions map[byte]ExtensionHandler
	// DenyQoSMinus1 drops PUBLISH with QoS -1 (§6.8), which needs no
	// connection and so bypasses admission. Set it in secure deployments.
	DenyQoSMinus1 bool
	// AnonymousClientID is the broker-side client id that QoS -1 messages
	// are published under. Default "lsmqtt-gw<GatewayID>".
	AnonymousClientID string

	// Store, when set, keeps sessions across restarts (OpenBoltStore):
	// loaded in New, bound again to their addresses when the conns are
	// served, written as they change. Default: sessions live in memory only.
	Store Store

	// Peering, when set, names this gateway and its neighbours and turns on
	// the handover of moving nodes' sessions between them (peering.go,
	// docs/protocol.md "Handover"): nodes get a session token after CONNACK
	// and may resume here with HO-RESUME; peers talk over the socket given
	// to ServePeers. Default: no handover.
	Peering *PeeringConfig

	// Logger receives structured logs; drops are logged at debug level.
	// Default: discard.
	Logger *slog.Logger
	// Clock drives every timer. Default clock.Real.
	Clock clock.Clock
	// Registerer receives the gateway's Prometheus metrics. Default: a
	// private registry (metrics not exported).
	Registerer prometheus.Registerer
	// NotifyStarted, when set, is called once per Serve call when that
	// PacketConn is being read.
	NotifyStarted func(pc net.PacketConn)
}

func (c *Config) setDefaults() error {
	if c.GatewayID == 0 {
		c.GatewayID = 1
	}
	if c.AdvertiseInterval == 0 {
		c.AdvertiseInterval = 15 * time.Minute
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 10 * time.Second
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 3
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 10000
	}
	if c.MaxHalfOpen <= 0 {
		c.MaxHalfOpen = min(c.MaxClients, max(64, c.MaxClients/10))
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = 16
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = 100
	}
	if c.MaxDatagram <= 0 {
		c.MaxDatagram = 1024
	}
	if c.MaxDatagram < 16 || c.MaxDatagram > 65535 {
		return fmt.Errorf("gateway: MaxDatagram %d outside 16..65535", c.MaxDatagram)
	}
	if c.MaxTopicsPerClient <= 0 {
		c.MaxTopicsPerClient = 1024
	}
	if c.ConnectRate > 0 && c.ConnectBurst <= 0 {
		c.ConnectBurst = max(1, int(2*c.ConnectRate))
	}
	if c.SessionExpiry <= 0 {
		c.SessionExpiry = time.Hour
	}
	if c.KeepAliveGrace == 0 {
		c.KeepAliveGrace = 1.5
	}
	if c.KeepAliveGrace < 1 {
		return fmt.Errorf("gateway: KeepAliveGrace %v below 1", c.KeepAliveGrace)
	}
	if c.BrokerTimeout <= 0 {
		c.BrokerTimeout = 30 * time.Second
	}
	if c.MaxBrokerOps <= 0 {
		c.MaxBrokerOps = 4096
	}
	if c.Authenticator == nil {
		c.Authenticator = Open{}
	}
	if c.AnonymousClientID == "" {
		c.AnonymousClientID = fmt.Sprintf("lsmqtt-gw%d", c.GatewayID)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	for id, name := range c.PredefinedTopics {
		if id == 0 || id == 0xFFFF {
			return fmt.Errorf("gateway: predefined topic id %#04x is reserved (MQTT-SN v1.2 §5.3.11)", id)
		}
		if !validTopicName(name) {
			return fmt.Errorf("gateway: predefined topic %d: invalid topic name %q", id, name)
		}
	}
	for t := range c.Extensions {
		if !isExtensionType(t) {
			return fmt.Errorf("gateway: extension handler for type %#02x outside the extension ranges", t)
		}
	}
	return nil
}

var errClosed = errors.New("gateway: closed")

var errTooLarge = errors.New("gateway: message longer than MaxDatagram")
