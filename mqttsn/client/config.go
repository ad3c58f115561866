package client

import (
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Defaults from MQTT-SN v1.2 §7.2, Table 30 ("best practice" values).
const (
	DefaultKeepAlive     = 60 * time.Second
	DefaultRetryInterval = 10 * time.Second // Tretry: 10–15 s
	DefaultMaxRetries    = 3                // Nretry: 3–5
)

// Config configures a Client. The zero value of every field means its default.
type Config struct {
	// ClientID is sent in CONNECT (1–23 octets, §5.3.1) and in the PINGREQ
	// that wakes a sleeping client.
	ClientID string
	// KeepAlive is the CONNECT Duration; the client pings when it has sent
	// nothing to the gateway for this long (§6.11). Zero means
	// DefaultKeepAlive; a negative value disables keep-alive (Duration 0).
	// It is sent in whole seconds, at most 65535.
	KeepAlive time.Duration
	// CleanSession is the CONNECT CleanSession flag (§6.3).
	CleanSession bool
	// Will, when set, is sent during CONNECT (§6.2).
	Will *Will
	// RetryInterval is Tretry and MaxRetries Nretry (§6.13): a request
	// unanswered after RetryInterval is retransmitted, at most MaxRetries times.
	RetryInterval time.Duration
	MaxRetries    int
	// Clock drives keep-alive and retransmission timers (default clock.Real).
	Clock clock.Clock
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
	// PredefinedTopics maps pre-defined topic names to ids, known in advance
	// to client and gateway (§6.7). Used to name incoming messages and by
	// Predefined topics given only a name.
	PredefinedTopics map[string]uint16

	// Callbacks run one at a time on the client's delivery goroutine, in the
	// order the datagrams arrived; they may call the client.

	// OnPublish receives every PUBLISH from the gateway (duplicates removed).
	OnPublish func(Message)
	// OnUnsolicited receives extension and unknown messages (reserved
	// types) that no Request is waiting for: from the gateway, or from any
	// other address (e.g. another gateway during a handover).
	OnUnsolicited func(m mqttsn.Message, from net.Addr)
	// OnAdvertise is called for each ADVERTISE received from any gateway.
	OnAdvertise func(Gateway)
	// OnDisconnect is called when the connection ends without Disconnect:
	// the gateway sent DISCONNECT (ErrDisconnected) or stopped answering
	// (an error wrapping ErrTimeout).
	OnDisconnect func(error)
}

func (c *Config) withDefaults() Config {
	cfg := *c
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.KeepAlive < 0 {
		cfg.KeepAlive = 0
	}
	if cfg.KeepAlive > 0xFFFF*time.Second {
		cfg.KeepAlive = 0xFFFF * time.Second
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Will is the will topic and message the gateway publishes when the client
// is lost (§6.3, §6.4).
type Will struct {
	Topic   string
	Message []byte
	QoS     mqttsn.QoS // 0..2
	Retain  bool
}

// Topic names what a PUBLISH, SUBSCRIBE or UNSUBSCRIBE is about, in one of
// the three forms of §6.7. Build it with Named, Predefined or Short.
type Topic struct {
	Type mqttsn.TopicIDType
	// Name is the topic name (Named; may hold wildcards in Subscribe), the
	// two characters of a short topic name (Short), or the name of a
	// pre-defined topic looked up in Config.PredefinedTopics (Predefined
	// with ID 0).
	Name string
	// ID is the pre-defined topic id, or for Named topics an id the caller
	// already has (then Name may be empty and no REGISTER is sent).
	ID uint16
}

// Named is a normal topic name, registered with the gateway on first use.
func Named(name string) Topic { return Topic{Type: mqttsn.TopicIDNormal, Name: name} }

// Predefined is a pre-defined topic id (§6.7).
func Predefined(id uint16) Topic { return Topic{Type: mqttsn.TopicIDPredefined, ID: id} }

// Short is a two-character short topic name (§6.7).
func Short(name string) Topic { return Topic{Type: mqttsn.TopicIDShort, Name: name} }

func (t Topic) String() string {
	switch t.Type {
	case mqttsn.TopicIDPredefined:
		if t.Name != "" {
			return t.Name
		}
		return "predefined:" + strconv.Itoa(int(t.ID))
	case mqttsn.TopicIDShort:
		return t.Name
	}
	if t.Name == "" {
		return "id:" + strconv.Itoa(int(t.ID))
	}
	return t.Name
}

// Message is a PUBLISH received from the gateway. Data is the client's own
// copy and may be kept.
type Message struct {
	// Topic is the topic name when the client knows it: registered normal
	// ids, short names, pre-defined ids listed in Config.PredefinedTopics.
	Topic       string
	TopicID     uint16
	TopicIDType mqttsn.TopicIDType
	QoS         mqttsn.QoS
	Retain      bool
	DUP         bool
	MsgID       uint16
	Data        []byte
}

// Gateway is a gateway the client has heard of (§6.1).
type Gateway struct {
	ID   uint8
	Addr net.Addr // where its ADVERTISE or GWINFO came from
	// GWAdd is the gateway address carried in a GWINFO sent by another
	// client on the gateway's behalf (raw, network-specific; §5.4.3).
	GWAdd []byte
	// Interval is the ADVERTISE Duration (0 when heard through GWINFO).
	Interval time.Duration
	LastSeen time.Time
}
