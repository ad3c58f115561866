package mote

import "github.com/lsmqtt/lsmqtt/mqttsn/client"

// Stats are a mote's live counters.
type Stats struct {
	ID         string `json:"id"`
	Transport  string `json:"transport"`
	Protection string `json:"protection"`
	Suite      string `json:"suite,omitempty"`
	State      string `json:"state"`

	Connects        uint64 `json:"connects"`
	ConnectFailures uint64 `json:"connect_failures"`
	Challenges      uint64 `json:"challenges"` // admission challenges answered
	KeyRequests     uint64 `json:"key_requests"`
	// KeyRenewals are new payload sessions (a fresh TS key) started by a
	// full connect after a move (Config.NoHandover).
	KeyRenewals uint64 `json:"key_renewals"`
	// Moves to another area's gateway (Move): Handovers resumed the
	// session there, Fallbacks connected afresh (counted in Connects too).
	Moves     uint64 `json:"moves"`
	Handovers uint64 `json:"handovers"`
	Fallbacks uint64 `json:"fallbacks"`

	PublishedVitals uint64 `json:"published_vitals"`
	PublishedAlarms uint64 `json:"published_alarms"`
	PublishedECG    uint64 `json:"published_ecg"`
	PublishFailures uint64 `json:"publish_failures"`
	Received        uint64 `json:"received"`         // messages from subscriptions
	ReceiveFailures uint64 `json:"receive_failures"` // of which could not be opened

	AlarmsRaised  uint64 `json:"alarms_raised"`
	AlarmsCleared uint64 `json:"alarms_cleared"`
	AlarmsDropped uint64 `json:"alarms_dropped"` // pending alarms beyond the queue
	Overruns      uint64 `json:"overruns"`       // timed work skipped because the mote was busy

	MQTTSN client.Stats `json:"mqttsn"`
	Frames FrameCounts  `json:"frames"`

	LastError string `json:"last_error,omitempty"`
}

// Stats returns the mote's counters.
func (m *Mote) Stats() Stats {
	m.cfg.Transport.sync()
	m.mu.Lock()
	s := m.stats
	m.mu.Unlock()
	s.State = "stopped"
	if c := m.client(); c != nil {
		s.State = c.State().String()
		s.MQTTSN = c.Stats()
	}
	if m.x != nil {
		s.KeyRequests = m.x.count.Load()
	}
	s.Frames = m.acct.counts()
	return s
}

// Datagrams returns the MQTT-SN datagrams the mote's client sent and
// received so far (cheap: for virtual-clock drivers that watch for
// datagrams in flight).
func (m *Mote) Datagrams() (sent, received uint64) {
	var st client.Stats
	if c := m.client(); c != nil {
		st = c.Stats()
	} else {
		m.mu.Lock()
		st = m.stats.MQTTSN
		m.mu.Unlock()
	}
	return st.DatagramsSent, st.DatagramsReceived
}

// Frames returns the frame counts of the mote's radio (cheap).
func (m *Mote) Frames() FrameCounts { return m.acct.counts() }
