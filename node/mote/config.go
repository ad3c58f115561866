package mote

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Protection selects how payloads are protected.
type Protection uint8

const (
	// ProtectAuto is ProtectTS with credentials and ProtectNone without.
	ProtectAuto Protection = iota
	// ProtectTS: keys from the Trusted System through the gateway's relay,
	// and admission proofs for the gateway's challenge.
	ProtectTS
	// ProtectStatic: a test key derived from the credentials' pre-shared
	// secret (StaticKey), for gateways without a TS (--open).
	ProtectStatic
	// ProtectNone: plaintext payloads (--open without credentials).
	ProtectNone
)

func (p Protection) String() string {
	switch p {
	case ProtectTS:
		return "ts"
	case ProtectStatic:
		return "static"
	case ProtectNone:
		return "none"
	}
	return "auto"
}

// Config configures a Mote. Zero fields take the defaults named.
type Config struct {
	// ID is the MQTT-SN client id (1–23 octets). Default: Creds.Name.
	ID string
	// Area is the topic's area segment (default "1"), Patient its patient
	// segment (default: Creds.Group, else ID). See the package doc.
	Area, Patient string

	// Profile is the mote class (default z1).
	Profile *profile.Profile
	// IgnoreOverheard stops charging RX energy for frames overheard from
	// neighbours. By default they are charged, as for a radio that listens
	// whenever it is not sending (the medium delivers them to the mote).
	IgnoreOverheard bool

	// Sensors. Seed and Scenario (sensors.Scenarios; default "stable")
	// choose the patient; Thresholds default to sensors.DefaultThresholds.
	Seed       uint64
	Scenario   string
	Thresholds *sensors.Thresholds

	// Rates. Defaults: pulse oximeter every 30 s, thermometer every 60 s,
	// a vitals record published every 60 s, no ECG stream. ECGBatch > 0
	// samples the ECG at its rate (ECGHz, default 250) and publishes a
	// batch every ECGBatch.
	PulseOxInterval     time.Duration
	TemperatureInterval time.Duration
	PublishInterval     time.Duration
	ECGBatch            time.Duration
	ECGHz               int
	// Manual disables the timers: the caller drives the mote with
	// SampleAll, PublishVitals and friends (measurements, tests).
	Manual bool

	// RoutineQoS is the QoS of vitals and ECG (default 0); AlarmQoS of
	// alarms (default 1). Set NoDefaultQoS to use QoS 0 for both.
	RoutineQoS, AlarmQoS mqttsn.QoS
	NoDefaultQoS         bool

	// Protection and Suite (aead name: ascon128 default, aes128-ccm8,
	// paper-xor only when named).
	Protection Protection
	Suite      string
	// Creds are the node's Trusted System credentials (name, PSS, sender
	// number, patient group). Required for ProtectTS and ProtectStatic.
	Creds *tsclient.Credentials
	// ReaderCreds are the credentials of a caregiver principal (granted the
	// groups of the motes it listens to) with which a subscribing mote
	// fetches keys to open what it receives (Subscribe, ProtectTS only).
	ReaderCreds *tsclient.Credentials
	// KeyRefresh: a TS key is replaced when it has less than this left
	// (default 5 minutes).
	KeyRefresh time.Duration

	// Transport carries the datagrams. Required.
	Transport Transport

	// MQTT-SN client: keep-alive (default 10 minutes), Tretry (default
	// 10 s) and Nretry (default 3), MQTT-SN v1.2 §7.2.
	KeepAlive     time.Duration
	RetryInterval time.Duration
	MaxRetries    int
	// NoHandover makes every move to another area's gateway a full
	// reconfiguration, as a node without session handover does: CONNECT
	// with admission, REGISTER, and (ProtectTS) a new payload session with
	// a fresh key from the TS before the next publish. It is the baseline
	// the handover is measured against. By default a move resumes the
	// session (Move) and keeps the key.
	NoHandover bool
	// FollowAdvertise makes a UDP mote that hears an ADVERTISE from a
	// gateway other than its own move there (for a node that hears one
	// area's gateway at a time).
	FollowAdvertise bool
	// OnMove, when set, is told of every move, on the goroutine that made
	// it; it must not block.
	OnMove func(MoveRecord)

	// ReconnectInterval is the wait before connecting again after a
	// failure (default 30 s).
	ReconnectInterval time.Duration

	Clock  clock.Clock
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.Transport == nil {
		return errors.New("mote: Config.Transport is required")
	}
	if c.ID == "" && c.Creds != nil {
		c.ID = c.Creds.Name
	}
	if c.ID == "" || len(c.ID) > 23 {
		return fmt.Errorf("mote: client id %q must be 1-23 octets", c.ID)
	}
	if c.Area == "" {
		c.Area = "1"
	}
	if c.Patient == "" {
		c.Patient = c.ID
		if c.Creds != nil && c.Creds.Group != "" {
			c.Patient = c.Creds.Group
		}
	}
	if c.Profile == nil {
		p, err := profile.Load(profile.Default)
		if err != nil {
			return err
		}
		c.Profile = p
	}
	if c.Scenario == "" {
		c.Scenario = "stable"
	}
	if c.Thresholds == nil {
		th := sensors.DefaultThresholds
		c.Thresholds = &th
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PulseOxInterval, 30*time.Second)
	def(&c.TemperatureInterval, 60*time.Second)
	def(&c.PublishInterval, 60*time.Second)
	def(&c.KeyRefresh, 5*time.Minute)
	def(&c.KeepAlive, 10*time.Minute)
	def(&c.RetryInterval, 10*time.Second)
	def(&c.ReconnectInterval, 30*time.Second)
	if c.MaxRetries <= 0 {
		c.MaxRetries = 3
	}
	if c.ECGHz <= 0 {
		c.ECGHz = 250
	}
	if !c.NoDefaultQoS && c.AlarmQoS == 0 {
		c.AlarmQoS = mqttsn.QoS1
	}
	if !c.RoutineQoS.Valid() || !c.AlarmQoS.Valid() || c.RoutineQoS < 0 || c.AlarmQoS < 0 {
		return errors.New("mote: QoS must be 0, 1 or 2 (normal topics)")
	}
	if c.Suite == "" {
		c.Suite = aead.Default
	}
	if c.Protection == ProtectAuto {
		c.Protection = ProtectNone
		if c.Creds != nil {
			c.Protection = ProtectTS
		}
	}
	if (c.Protection == ProtectTS || c.Protection == ProtectStatic) && (c.Creds == nil || len(c.Creds.PSS) == 0) {
		return fmt.Errorf("mote: protection %v needs credentials", c.Protection)
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
