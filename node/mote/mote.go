package mote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Mote is one emulated node. Create it with New, run it with Run (or drive
// it by hand with Connect, SampleAll, PublishVitals), read it with Stats and
// Snapshot, and release it with Close.
type Mote struct {
	cfg     Config
	clk     clock.Clock
	meter   *energy.Meter
	acct    *radioAccount
	suite   *aead.Suite
	esuite  energy.Suite
	patient *sensors.Patient
	ecg     *sensors.ECG
	topics  [3]string
	x       *gatewayExchanger
	prot    protector
	reader  *tsclient.Reader // opens what the mote subscribed to (ReaderCreds)

	busy atomic.Int32
	// wrapConn, set by tests before Run (export_test.go), wraps the
	// client's socket (to trace the datagrams of a move).
	wrapConn func(net.PacketConn) net.PacketConn
	ho       atomic.Pointer[handoverclient.Node]
	connMu   sync.Mutex // serialises Connect and Move (a resume lets go of it behind HO-RESUME)
	moveMu   sync.Mutex // keeps moves apart once a resume let go of connMu
	// holdConn: the move under way holds connMu and lets go of it once its
	// HO-RESUME is out (resumeSent).
	holdConn atomic.Bool

	// opMu serialises the mote's own work (samples, publishes, connects):
	// a mote has one CPU.
	opMu    sync.Mutex
	monitor *sensors.Monitor
	latest  sensors.Vitals
	pending []pendingAlarm
	buf     []byte
	ecgBuf  []int16

	mu      sync.Mutex // guards the fields below
	start   time.Time
	lastAdv time.Time
	stats   Stats
	closed  bool
	onRecv  func(Received)
	moves   []MoveRecord
	// wake is closed (and replaced) when the transport says the gateway
	// may have changed.
	wake chan struct{}
}

type pendingAlarm struct {
	a     sensors.Alarm
	v     sensors.Vitals
	flags uint8
}

const maxPendingAlarms = 32

// topic indexes
const (
	tVitals = iota
	tAlarm
	tECG
)

// New builds a mote; nothing is sent until Run or Connect.
func New(cfg Config) (*Mote, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	suite, err := aead.Lookup(cfg.Suite, aead.Options{AllowInsecure: true})
	if err != nil {
		return nil, err
	}
	es := energy.NoSuite
	if cfg.Protection != ProtectNone {
		if es, err = energy.ParseSuite(suite.Name()); err != nil {
			return nil, err
		}
	}
	eps, err := sensors.Scenario(cfg.Scenario, cfg.Seed)
	if err != nil {
		return nil, err
	}
	prof := cfg.Profile
	duty := cfg.Transport.dutyCycled()
	if duty {
		// The stack reports what the radio listened (OnListen): that
		// replaces the profile's idle-listen fraction, never adds to it.
		prof = prof.Clone()
		prof.MAC.IdleListenPPM = 0
	}
	m := &Mote{
		cfg:     cfg,
		clk:     cfg.Clock,
		meter:   energy.NewMeter(prof),
		suite:   suite,
		esuite:  es,
		patient: sensors.New(sensors.Config{Seed: cfg.Seed, Episodes: eps, ECGHz: cfg.ECGHz}),
		monitor: sensors.NewMonitor(*cfg.Thresholds),
	}
	m.ecg = m.patient.ECG()
	m.wake = make(chan struct{})
	m.acct = newRadioAccount(m.meter, !cfg.IgnoreOverheard, duty)
	for i, k := range []string{KindVitals, KindAlarm, KindECG} {
		m.topics[i] = Topic(cfg.Area, cfg.Patient, k)
	}
	now := m.clk.Now()
	m.start, m.lastAdv = now, now
	m.stats.ID = cfg.ID
	m.stats.Transport = cfg.Transport.Kind()
	m.stats.Protection = cfg.Protection.String()
	m.stats.Suite = suite.Name()
	if cfg.Protection == ProtectNone {
		m.stats.Suite = ""
	}
	switch cfg.Protection {
	case ProtectNone:
		m.prot = plain{}
	case ProtectStatic:
		id := uint32(now.Unix())
		if id == 0 {
			id = 1
		}
		k, err := StaticKey(cfg.Creds, suite, id)
		if err != nil {
			return nil, err
		}
		m.prot = static{envelope.NewSealer(k, m.clk)}
	case ProtectTS:
		m.x = &gatewayExchanger{m: m}
		s, err := newTSSession(tsclient.SessionConfig{
			Creds: cfg.Creds, Exchanger: m.x, Suite: suite, AllowInsecure: suite.Insecure(),
			RefreshBefore: cfg.KeyRefresh, Clock: m.clk,
		})
		if err != nil {
			return nil, err
		}
		m.prot = s
		if cfg.ReaderCreds != nil {
			if m.reader, err = m.newReader(cfg.ReaderCreds); err != nil {
				s.close()
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("mote: unknown protection %d", cfg.Protection)
	}
	cfg.Transport.attach(m.acct)
	cfg.Transport.notify(m.transportMoved)
	return m, nil
}

// ID returns the mote's client id.
func (m *Mote) ID() string { return m.cfg.ID }

// Topic returns the mote's topic for a kind (KindVitals, KindAlarm, KindECG).
func (m *Mote) Topic(kind string) string { return Topic(m.cfg.Area, m.cfg.Patient, kind) }

// Transport returns the mote's transport.
func (m *Mote) Transport() Transport { return m.cfg.Transport }

// Meter returns the mote's energy meter. Prefer Snapshot, which first
// brings the meter up to the clock.
func (m *Mote) Meter() *energy.Meter { return m.meter }

// Busy reports whether the mote is in the middle of work (a connect, a
// sample, a publish): a virtual-clock driver advances time in small steps
// while any mote is busy.
func (m *Mote) Busy() bool { return m.busy.Load() > 0 }

func (m *Mote) client() *client.Client {
	if n := m.ho.Load(); n != nil {
		return n.Client()
	}
	return nil
}

// advance brings the meter up to the clock.
func (m *Mote) advance() {
	m.mu.Lock()
	now := m.clk.Now()
	if d := now.Sub(m.lastAdv); d > 0 {
		m.meter.Advance(d)
		m.lastAdv = now
	}
	m.mu.Unlock()
}

// Snapshot returns the energy accounting up to now on the mote's clock.
func (m *Mote) Snapshot() energy.Snapshot {
	m.cfg.Transport.sync()
	m.advance()
	return m.meter.Snapshot()
}

// Run connects the mote and runs its sensors and publishing until ctx ends
// (or, with Config.Manual, just keeps it connected). Connection failures are
// retried every ReconnectInterval. On return the mote has sent DISCONNECT
// (without waiting for the answer) and closed its client; Close releases
// the rest.
func (m *Mote) Run(ctx context.Context) error {
	defer m.shutdown()
	var follow sync.WaitGroup
	defer follow.Wait()
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	follow.Add(1)
	go func() { defer follow.Done(); m.follow(fctx) }()
	m.opMu.Lock()
	m.sampleAllLocked(ctx)
	m.opMu.Unlock()
	for {
		err := m.Connect(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		m.setError(err)
		if sleep(ctx, m.clk, m.cfg.ReconnectInterval) != nil {
			return nil
		}
	}
	jobs := make(chan job, 16)
	if !m.cfg.Manual {
		timers := m.startTimers(jobs)
		defer func() {
			for _, t := range timers {
				t.Stop()
			}
		}()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case j := <-jobs:
			m.busy.Add(1)
			m.do(ctx, j)
			m.busy.Add(-1)
		}
	}
}

// job is one piece of timed work.
type job uint8

const (
	jobPulseOx job = iota
	jobTemperature
	jobPublish
	jobECG
)

// startTimers arms the periodic work, each timer with a phase drawn from
// the seed so a fleet does not act in lockstep.
func (m *Mote) startTimers(jobs chan<- job) []clock.Timer {
	type spec struct {
		j job
		d time.Duration
	}
	specs := []spec{{jobPulseOx, m.cfg.PulseOxInterval}, {jobTemperature, m.cfg.TemperatureInterval}, {jobPublish, m.cfg.PublishInterval}}
	if m.cfg.ECGBatch > 0 {
		specs = append(specs, spec{jobECG, m.cfg.ECGBatch})
	}
	timers := make([]clock.Timer, len(specs))
	var tm sync.Mutex
	for i, s := range specs {
		phase := time.Duration(splitmix(m.cfg.Seed+uint64(i)*0x9e37) % uint64(s.d))
		fire := func() {
			select {
			case jobs <- s.j:
			default:
				m.mu.Lock()
				m.stats.Overruns++
				m.mu.Unlock()
			}
			tm.Lock()
			timers[i].Reset(s.d)
			tm.Unlock()
		}
		tm.Lock()
		timers[i] = m.clk.AfterFunc(phase+1, fire)
		tm.Unlock()
	}
	return timers
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (m *Mote) do(ctx context.Context, j job) {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	var err error
	switch j {
	case jobPulseOx:
		m.samplePulseOxLocked()
		err = m.flushAlarmsLocked(ctx)
	case jobTemperature:
		m.sampleTemperatureLocked()
		err = m.flushAlarmsLocked(ctx)
	case jobPublish:
		err = m.publishVitalsLocked(ctx)
	case jobECG:
		err = m.publishECGLocked(ctx)
	}
	if err != nil && ctx.Err() == nil {
		m.setError(err)
	}
}

func (m *Mote) setError(err error) {
	m.mu.Lock()
	m.stats.LastError = err.Error()
	m.mu.Unlock()
	m.cfg.Logger.Debug("mote", "id", m.cfg.ID, "err", err)
}

// Connect makes sure the mote is connected to its gateway: it waits for the
// transport (a mesh node joins its DODAG), CONNECTs (answering the
// gateway's admission challenge) and registers its topics. It is a no-op
// when the mote is connected already. When the transport's gateway is not
// the one the mote is connected to (the mote is in another area now), it
// moves its session there as Move does.
func (m *Mote) Connect(ctx context.Context) error {
	m.busy.Add(1)
	defer m.busy.Add(-1)
	m.connMu.Lock()
	held := true
	defer func() {
		if held {
			m.connMu.Unlock()
		}
	}()
	if err := m.waitReady(ctx); err != nil {
		return err
	}
	gw := m.cfg.Transport.Gateway()
	if gw == nil {
		return errors.New("mote: no gateway address")
	}
	n, err := m.node(gw)
	if err != nil {
		return err
	}
	c := n.Client()
	same := sameAddr(c.Gateway(), gw)
	if c.State() == client.StateActive && same {
		return nil
	}
	// A move that let go of connMu behind its HO-RESUME may still be
	// under way (waiting for HO-RESUMED, or falling back to a full
	// connect): wait for its end before deciding anything. moveMu is let go
	// of before connMu is taken again, so the order connMu → moveMu holds.
	m.moveMu.Lock()
	same = sameAddr(c.Gateway(), gw)
	if c.State() == client.StateActive && same {
		m.moveMu.Unlock()
		return nil
	}
	if !same && m.connected() {
		held = m.moveLocked(ctx, n, gw)
		m.moveMu.Unlock()
		if c.State() == client.StateActive {
			return nil
		}
		if !held {
			// The move let go of connMu and ended without a session (its
			// fallback failed): start over, since another move may have
			// begun meanwhile.
			return m.Connect(ctx)
		}
	} else {
		m.moveMu.Unlock()
	}
	c.SetGateway(gw)
	if err := n.Connect(ctx); err != nil {
		m.mu.Lock()
		m.stats.ConnectFailures++
		m.mu.Unlock()
		return fmt.Errorf("mote %s: connect: %w", m.cfg.ID, err)
	}
	m.mu.Lock()
	m.stats.Connects++
	m.mu.Unlock()
	return nil
}

// waitReady waits until the transport can carry datagrams. Waiting for the
// mesh is not work in flight: time may run meanwhile.
func (m *Mote) waitReady(ctx context.Context) error {
	for !m.cfg.Transport.Ready() {
		m.mu.Lock()
		wake := m.wake
		m.mu.Unlock()
		m.busy.Add(-1)
		err := sleepOr(ctx, m.clk, 250*time.Millisecond, wake)
		m.busy.Add(1)
		if err != nil {
			return err
		}
	}
	return nil
}

// node returns the mote's handover client, made on first use for gw.
func (m *Mote) node(gw net.Addr) (*handoverclient.Node, error) {
	if n := m.ho.Load(); n != nil {
		return n, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, net.ErrClosed
	}
	topics := m.topics[:2]
	if m.cfg.ECGBatch > 0 {
		topics = m.topics[:3]
	}
	ccfg := client.Config{
		ClientID:      m.cfg.ID,
		KeepAlive:     m.cfg.KeepAlive,
		CleanSession:  true,
		RetryInterval: m.cfg.RetryInterval,
		MaxRetries:    m.cfg.MaxRetries,
		Clock:         m.clk,
		Logger:        m.cfg.Logger,
		OnPublish:     m.onPublish,
	}
	if m.cfg.FollowAdvertise {
		ccfg.OnAdvertise = m.onAdvertise
	}
	hcfg := handoverclient.Config{Client: ccfg, Topics: topics, OnResumeSent: m.resumeSent}
	if m.cfg.Creds != nil && m.cfg.Protection == ProtectTS {
		hcfg.Prove = m.prove
	}
	conn := m.cfg.Transport.Conn()
	if m.wrapConn != nil {
		conn = m.wrapConn(conn)
	}
	n := handoverclient.New(conn, gw, hcfg)
	m.ho.Store(n)
	return n, nil
}

// prove answers the gateway's admission challenge (TS-CHALLENGE), or a
// visited gateway's request for a proof in a resume, with a proof of the
// PSS (tsclient.Prove): HMAC-SHA256 under a key derived from the PSS.
func (m *Mote) prove(ch *mqttsn.TSChallenge) (*mqttsn.TSProof, error) {
	_, _ = m.meter.Crypto(energy.NoSuite, energy.KDF, 0, 0)
	_, _ = m.meter.Crypto(energy.NoSuite, energy.Hash, 64+ch.Len(), 0)
	_, _ = m.meter.Crypto(energy.NoSuite, energy.Hash, 64+32, 0)
	proof, err := tsclient.Prove(m.cfg.Creds, ch)
	if err != nil {
		m.setError(err)
		return nil, err
	}
	m.mu.Lock()
	m.stats.Challenges++
	m.mu.Unlock()
	return proof, nil
}

// FetchKey makes sure the mote holds a payload key: under ProtectTS it
// fetches one from the TS through the gateway if it has none (or it is
// near its end); otherwise it does nothing. The mote must be connected.
func (m *Mote) FetchKey(ctx context.Context) error {
	p, ok := m.prot.(*tsSession)
	if !ok {
		return nil
	}
	m.busy.Add(1)
	defer m.busy.Add(-1)
	_, err := p.current().Sealer(ctx)
	return err
}

// SampleAll reads every vital-sign sensor once (pulse oximeter and
// thermometer) and publishes the alarms that changed.
func (m *Mote) SampleAll(ctx context.Context) error {
	m.busy.Add(1)
	defer m.busy.Add(-1)
	m.opMu.Lock()
	defer m.opMu.Unlock()
	m.sampleAllLocked(ctx)
	return m.flushAlarmsLocked(ctx)
}

func (m *Mote) sampleAllLocked(context.Context) {
	m.samplePulseOxLocked()
	m.sampleTemperatureLocked()
}

func (m *Mote) now() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clk.Since(m.start)
}

func (m *Mote) samplePulseOxLocked() {
	_ = m.meter.Sample(sensors.PulseOximeter)
	v := m.patient.Vitals(m.now())
	m.latest.At, m.latest.HeartRate, m.latest.SpO2 = v.At, v.HeartRate, v.SpO2
	if m.latest.TemperatureC == 0 {
		m.latest.TemperatureC = v.TemperatureC // before the first thermometer reading
	}
	m.checkLocked()
}

func (m *Mote) sampleTemperatureLocked() {
	_ = m.meter.Sample(sensors.Thermometer)
	v := m.patient.Vitals(m.now())
	m.latest.At, m.latest.TemperatureC = v.At, v.TemperatureC
	if m.latest.HeartRate == 0 {
		m.latest.HeartRate, m.latest.SpO2 = v.HeartRate, v.SpO2
	}
	m.checkLocked()
}

func (m *Mote) checkLocked() {
	alarms := m.monitor.Check(nil, m.latest)
	flags := m.monitor.Flags()
	m.mu.Lock()
	for _, a := range alarms {
		if a.Raised {
			m.stats.AlarmsRaised++
		} else {
			m.stats.AlarmsCleared++
		}
		if len(m.pending) >= maxPendingAlarms {
			m.pending = m.pending[1:]
			m.stats.AlarmsDropped++
		}
		m.pending = append(m.pending, pendingAlarm{a, m.latest, flags})
	}
	m.mu.Unlock()
}

// flushAlarmsLocked publishes pending alarms at AlarmQoS, oldest first.
func (m *Mote) flushAlarmsLocked(ctx context.Context) error {
	for {
		m.mu.Lock()
		if len(m.pending) == 0 {
			m.mu.Unlock()
			return nil
		}
		p := m.pending[0]
		m.mu.Unlock()
		pl := AppendAlarm(nil, p.a, p.v, p.flags)
		if err := m.publishLocked(ctx, tAlarm, m.cfg.AlarmQoS, pl); err != nil {
			return err
		}
		m.mu.Lock()
		m.pending = m.pending[1:]
		m.stats.PublishedAlarms++
		m.mu.Unlock()
	}
}

// PublishVitals publishes the latest reading (a sensors record with the
// alarm flags) on the vitals topic at RoutineQoS, without sampling: one
// transaction of the paper's evaluation (seal, transmit).
func (m *Mote) PublishVitals(ctx context.Context) error {
	m.busy.Add(1)
	defer m.busy.Add(-1)
	m.opMu.Lock()
	defer m.opMu.Unlock()
	return m.publishVitalsLocked(ctx)
}

func (m *Mote) publishVitalsLocked(ctx context.Context) error {
	if err := m.flushAlarmsLocked(ctx); err != nil {
		return err
	}
	rec := m.latest.AppendBinary(m.buf[:0], m.monitor.Flags())
	m.buf = rec
	if err := m.publishLocked(ctx, tVitals, m.cfg.RoutineQoS, rec); err != nil {
		return err
	}
	m.mu.Lock()
	m.stats.PublishedVitals++
	m.mu.Unlock()
	return nil
}

// PublishECG samples one ECG batch (Config.ECGBatch at ECGHz) and publishes
// it at RoutineQoS.
func (m *Mote) PublishECG(ctx context.Context) error {
	if m.cfg.ECGBatch <= 0 {
		return errors.New("mote: no ECG stream configured (Config.ECGBatch)")
	}
	m.busy.Add(1)
	defer m.busy.Add(-1)
	m.opMu.Lock()
	defer m.opMu.Unlock()
	return m.publishECGLocked(ctx)
}

func (m *Mote) publishECGLocked(ctx context.Context) error {
	n := int(m.cfg.ECGBatch * time.Duration(m.cfg.ECGHz) / time.Second)
	if n <= 0 {
		return nil
	}
	start := m.ecg.Now()
	m.ecgBuf = m.ecg.Read(m.ecgBuf[:0], n)
	for range n {
		_ = m.meter.Sample(sensors.ECGFrontEnd)
	}
	pl := AppendECG(nil, m.cfg.ECGHz, start, m.ecgBuf)
	if err := m.publishLocked(ctx, tECG, m.cfg.RoutineQoS, pl); err != nil {
		return err
	}
	m.mu.Lock()
	m.stats.PublishedECG++
	m.mu.Unlock()
	return nil
}

// publishLocked seals pt for topic t and publishes it, connecting first if
// needed.
func (m *Mote) publishLocked(ctx context.Context, t int, qos mqttsn.QoS, pt []byte) error {
	if err := m.Connect(ctx); err != nil {
		m.countFailure()
		return err
	}
	topic := m.topics[t]
	env, err := m.prot.seal(ctx, nil, topic, pt)
	if err != nil {
		m.countFailure()
		return fmt.Errorf("mote %s: seal: %w", m.cfg.ID, err)
	}
	if m.esuite != energy.NoSuite {
		_, _ = m.meter.Crypto(m.esuite, energy.Seal, len(pt), envelope.HeaderLen+len(topic))
	}
	if err := m.ho.Load().Publish(ctx, topic, qos, false, env); err != nil {
		m.countFailure()
		return fmt.Errorf("mote %s: publish %s: %w", m.cfg.ID, topic, err)
	}
	return nil
}

func (m *Mote) countFailure() {
	m.mu.Lock()
	m.stats.PublishFailures++
	m.mu.Unlock()
}

// shutdown ends Run: DISCONNECT without waiting (the clock may not be
// advancing any more), then the client stops.
func (m *Mote) shutdown() {
	if n := m.ho.Swap(nil); n != nil {
		c := n.Client()
		if c.State() == client.StateActive {
			_ = c.Send(&mqttsn.Disconnect{})
		}
		n.Close()
		st := c.Stats()
		m.mu.Lock()
		m.stats.MQTTSN = st
		m.mu.Unlock()
	}
	m.advance()
}

// Close stops the mote's client if Run did not, wipes its keys and closes
// its transport. It is idempotent.
func (m *Mote) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.shutdown()
	m.prot.close()
	if m.reader != nil {
		m.reader.Close()
	}
	return m.cfg.Transport.Close()
}

// sleep waits d on c, or until ctx ends.
func sleep(ctx context.Context, c clock.Clock, d time.Duration) error {
	return sleepOr(ctx, c, d, nil)
}

// sleepOr waits d on c, or until wake is closed, or until ctx ends.
func sleepOr(ctx context.Context, c clock.Clock, d time.Duration, wake <-chan struct{}) error {
	ch := make(chan struct{})
	t := c.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return nil
	case <-wake:
		t.Stop()
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

func sameAddr(a, b net.Addr) bool {
	return a != nil && b != nil && a.Network() == b.Network() && a.String() == b.String()
}
