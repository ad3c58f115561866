package monitor

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
)

// Opener opens envelopes for a caregiver: *tsclient.Reader implements it.
type Opener interface {
	Open(ctx context.Context, group, topic string, dst, env []byte) ([]byte, envelope.Header, error)
}

// Config configures a Monitor.
type Config struct {
	// Opener opens envelopes (a tsclient.Reader). Required.
	Opener Opener
	// OnEvent, if set, is called after each message is handled, on the
	// caller's goroutine; it must not block.
	OnEvent func(Event)
	Clock   clock.Clock
	Logger  *slog.Logger
}

// ErrTopic is returned by Handle for a topic that is not a mote topic
// (ward/<area>/patient/<patient>/<kind>).
var ErrTopic = errors.New("monitor: not a patient topic")

// Patient is the caregiver's view of one patient.
type Patient struct {
	ID string `json:"patient"`
	// Area is the label of the source (broker) the last message came
	// through; Ward is the area segment of its topic (the node's home).
	Area     string    `json:"area"`
	Ward     string    `json:"ward"`
	LastSeen time.Time `json:"last_seen"`

	HeartRate    float64       `json:"heart_rate"`
	SpO2         float64       `json:"spo2"`
	TemperatureC float64       `json:"temperature_c"`
	ReadingAt    time.Duration `json:"reading_at_ns"` // since the node's start
	// Alarms are the alarms currently raised (sensors.AlarmKind names).
	Alarms []string `json:"alarms"`

	Messages    uint64 `json:"messages"`
	Missing     uint64 `json:"missing"`      // sequence numbers not (yet) received
	Late        uint64 `json:"late"`         // arrived after a later number
	Rejected    uint64 `json:"rejected"`     // envelopes that did not open
	AreaChanges uint64 `json:"area_changes"` // the source changed between messages
}

// Event is one handled message, the JSON line of `lsmqtt monitor --json`.
type Event struct {
	At      time.Time `json:"at"`
	Area    string    `json:"area"`
	Topic   string    `json:"topic"`
	Patient string    `json:"patient"`
	Kind    string    `json:"kind"`
	Sender  uint16    `json:"sender,omitempty"`
	KeyID   uint32    `json:"key_id,omitempty"`
	Seq     uint32    `json:"seq,omitempty"`

	HeartRate    float64 `json:"heart_rate,omitempty"`
	SpO2         float64 `json:"spo2,omitempty"`
	TemperatureC float64 `json:"temperature_c,omitempty"`
	Alarm        string  `json:"alarm,omitempty"`
	Raised       bool    `json:"raised,omitempty"`

	// Gap is how many sequence numbers this message showed missing.
	Gap   uint32 `json:"gap,omitempty"`
	Late  bool   `json:"late,omitempty"`
	Error string `json:"error,omitempty"`
}

// Stats are a Monitor's counters.
type Stats struct {
	Messages uint64 `json:"messages"`
	Opened   uint64 `json:"opened"`
	Rejected uint64 `json:"rejected"`
	BadTopic uint64 `json:"bad_topic"`
	BadBody  uint64 `json:"bad_body"` // opened but not a record
	Missing  uint64 `json:"missing"`
}

// Monitor keeps the caregiver's view. It is safe for concurrent use.
type Monitor struct {
	cfg Config

	mu       sync.Mutex
	patients map[string]*patientState
	stats    Stats
}

type patientState struct {
	Patient
	alarms  uint8 // raised AlarmKinds as bits
	seqs    map[gapKey]*seqTracker
	senders map[uint16]bool // senders seen (first key counts no earlier gap)
}

// New returns a Monitor.
func New(cfg Config) *Monitor {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Monitor{cfg: cfg, patients: make(map[string]*patientState)}
}

// parseTopic splits ward/<ward>/patient/<patient>/<kind>.
func parseTopic(topic string) (ward, patient, kind string, ok bool) {
	s := strings.Split(topic, "/")
	if len(s) != 5 || s[0] != "ward" || s[2] != "patient" || s[3] == "" {
		return "", "", "", false
	}
	return s[1], s[3], s[4], true
}

// Handle opens one message received from the source labelled area and
// updates the patient's view. The error says why a message was refused;
// refused messages are counted.
func (m *Monitor) Handle(ctx context.Context, area, topic string, payload []byte) error {
	now := m.cfg.Clock.Now()
	ev := Event{At: now, Area: area, Topic: topic}
	err := m.handle(ctx, now, &ev, payload)
	if err != nil {
		ev.Error = err.Error()
		m.cfg.Logger.Debug("monitor: message refused", "topic", topic, "area", area, "err", err)
	}
	if m.cfg.OnEvent != nil {
		m.cfg.OnEvent(ev)
	}
	return err
}

func (m *Monitor) handle(ctx context.Context, now time.Time, ev *Event, payload []byte) error {
	ward, pid, kind, ok := parseTopic(ev.Topic)
	m.mu.Lock()
	m.stats.Messages++
	if !ok {
		m.stats.BadTopic++
		m.mu.Unlock()
		return ErrTopic
	}
	m.mu.Unlock()
	ev.Patient, ev.Kind = pid, kind
	pt, h, err := m.cfg.Opener.Open(ctx, pid, ev.Topic, nil, payload)
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.patients[pid]
	if p == nil {
		p = &patientState{Patient: Patient{ID: pid}, seqs: map[gapKey]*seqTracker{}, senders: map[uint16]bool{}}
		m.patients[pid] = p
	}
	if err != nil {
		m.stats.Rejected++
		p.Rejected++
		return err
	}
	m.stats.Opened++
	ev.Sender, ev.KeyID, ev.Seq = h.Sender, h.KeyID, h.Seq
	if p.Area != "" && p.Area != ev.Area {
		p.AreaChanges++
	}
	p.Area, p.Ward, p.LastSeen = ev.Area, ward, now
	p.Messages++
	k := gapKey{h.Sender, h.KeyID}
	t := p.seqs[k]
	if t == nil {
		t = &seqTracker{}
		if !p.senders[h.Sender] && h.Seq > 0 {
			t.highest = h.Seq - 1 // the monitor was not listening before
		}
		p.senders[h.Sender] = true
		p.seqs[k] = t
	}
	before := t.open()
	n, late, _ := t.see(h.Seq)
	ev.Gap, ev.Late = n, late
	if late {
		p.Late++
	}
	after := t.open()
	p.Missing = p.Missing + after - before
	m.stats.Missing = m.stats.Missing + after - before
	switch kind {
	case mote.KindVitals:
		v, flags, _, err := sensors.ParseRecord(pt)
		if err != nil {
			m.stats.BadBody++
			return err
		}
		if !late {
			p.setVitals(v, flags)
		}
		ev.HeartRate, ev.SpO2, ev.TemperatureC = v.HeartRate, v.SpO2, v.TemperatureC
	case mote.KindAlarm:
		ak, raised, v, flags, err := mote.ParseAlarm(pt)
		if err != nil {
			m.stats.BadBody++
			return err
		}
		if !late {
			p.setVitals(v, flags)
		}
		ev.Alarm, ev.Raised = ak.String(), raised
		ev.HeartRate, ev.SpO2, ev.TemperatureC = v.HeartRate, v.SpO2, v.TemperatureC
	}
	return nil
}

func (p *patientState) setVitals(v sensors.Vitals, flags uint8) {
	p.HeartRate, p.SpO2, p.TemperatureC, p.ReadingAt = v.HeartRate, v.SpO2, v.TemperatureC, v.At
	p.alarms = flags
	p.Alarms = p.Alarms[:0]
	for k := range 8 {
		if flags&(1<<k) != 0 {
			p.Alarms = append(p.Alarms, sensors.AlarmKind(k).String())
		}
	}
}

// Patients returns every patient seen, sorted by id (numerically when the
// ids are numbers).
func (m *Monitor) Patients() []Patient {
	m.mu.Lock()
	out := make([]Patient, 0, len(m.patients))
	for _, p := range m.patients {
		c := p.Patient
		c.Alarms = slices.Clone(p.Alarms)
		out = append(out, c)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Patient) int { return compareIDs(a.ID, b.ID) })
	return out
}

// Patient returns one patient's view.
func (m *Monitor) Patient(id string) (Patient, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.patients[id]
	if !ok {
		return Patient{}, false
	}
	c := p.Patient
	c.Alarms = slices.Clone(p.Alarms)
	return c, true
}

// Stats returns the counters.
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// compareIDs orders numeric ids by value, then the rest by string.
func compareIDs(a, b string) int {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
