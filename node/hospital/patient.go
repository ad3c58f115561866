package hospital

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// patient is one patient and the mote they wear: an actor with its own
// goroutine, woken by its publish timer and its moves.
type patient struct {
	s     *Sim
	idx   int
	group string
	creds *tsclient.Credentials
	legs  []leg

	busy     atomic.Int32
	lastSent atomic.Int64 // UnixNano on the sim clock of the latest vitals publish
	sentWall atomic.Int64 // the same on the wall clock, for latency
	// inflight is set from a vitals publish until the station opens it (or
	// inflightMax passes): the virtual-clock driver takes small steps
	// meanwhile, so latencies are not stretched by jumps to the next timer.
	inflight atomic.Bool

	qmu   sync.Mutex
	queue []pevent
	wake  chan struct{}

	// m is the patient's mote for the whole run, started by Sim.setup;
	// air its UDP socket (UDP transport). Set under mu (endSnapshot and
	// retire read them from other goroutines).
	m   *mote.Mote
	air *airConn
	// owned by run
	inWard bool
	legNo  int
	timers []clock.Timer

	mu  sync.Mutex // guards the totals below (read by summarise after run)
	tot patientTotals
	// endSnap is the mote's energy at the scenario's end (the drain after
	// it takes a scheduler-dependent amount of virtual time).
	endSnap *energy.Snapshot
}

type patientTotals struct {
	EnergyMJ  float64
	Elapsed   time.Duration
	Published uint64 // publishes that completed (QoS 1: acknowledged)
	Failures  uint64
	Skipped   uint64 // publish ticks while walking
	Connects  uint64
	KeyReqs   uint64
	Air       [numClasses]uint64
	Lost      uint64

	Handovers  uint64
	Resumed    uint64 // session handover: the visited gateway took the session over
	Completed  uint64
	Failed     uint64
	HandoverDs []time.Duration
	RejoinDs   []time.Duration // mesh: arrival → in the ward's DODAG, of the completed handovers
}

type pevent struct {
	kind int // evTick, evLeave, evArrive
	leg  int
	at   time.Duration // when it was posted, since the start
}

// inflightMax bounds the wait for a vitals publish to reach the station
// before the driver stops stepping for it (a lost QoS 0 message).
const inflightMax = 5 * time.Second

const (
	evTick = iota
	evLeave
	evArrive
)

func (p *patient) isBusy() bool {
	if p.busy.Load() > 0 {
		return true
	}
	if p.inflight.Load() {
		if p.s.clk.Now().UnixNano()-p.lastSent.Load() < int64(inflightMax) {
			return true
		}
		p.inflight.Store(false)
	}
	p.qmu.Lock()
	n := len(p.queue)
	p.qmu.Unlock()
	return n > 0
}

// post queues an event; it never blocks (timer callbacks run on the
// clock's goroutine).
func (p *patient) post(e pevent) {
	e.at = p.s.clk.Since(p.s.start)
	p.qmu.Lock()
	p.queue = append(p.queue, e)
	p.qmu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *patient) run(ctx context.Context) {
	clk := p.s.clk
	sc := p.s.sc
	p.wake = make(chan struct{}, 1)
	// p.busy was raised by the caller (Sim.Run) before starting this
	// goroutine; it is lowered once the first arrival is queued.
	// The itinerary, as timers.
	for i, l := range p.legs {
		if i == 0 {
			p.post(pevent{kind: evArrive, leg: 0})
			continue
		}
		// On the mesh the radio moves in the timer's callback, at its
		// emulated time, not when the patient's goroutine gets to run.
		corridor := sc.corridor(p.legs[i-1].Area, l.Area)
		p.timers = append(p.timers,
			clk.AfterFunc(l.Leave, func() {
				p.place(corridor)
				p.post(pevent{kind: evLeave, leg: i})
			}),
			clk.AfterFunc(l.Arrive, func() {
				p.place(l.Bed)
				p.post(pevent{kind: evArrive, leg: i})
			}))
	}
	// The publish timer, with a phase from the seed.
	iv := sc.PublishInterval.Duration
	phase := time.Duration(splitmix(sc.Seed^uint64(p.idx)*0x9e3779b9)%uint64(iv)) + time.Millisecond
	var pt clock.Timer
	var tmu sync.Mutex
	fire := func() {
		p.post(pevent{kind: evTick})
		tmu.Lock()
		pt.Reset(iv)
		tmu.Unlock()
	}
	tmu.Lock()
	pt = clk.AfterFunc(phase, fire)
	tmu.Unlock()
	p.busy.Add(-1)
	defer func() {
		tmu.Lock()
		pt.Stop()
		tmu.Unlock()
		for _, t := range p.timers {
			t.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		for {
			p.qmu.Lock()
			if len(p.queue) == 0 {
				p.qmu.Unlock()
				break
			}
			e := p.queue[0]
			p.queue = p.queue[1:]
			p.busy.Add(1)
			p.qmu.Unlock()
			p.handle(ctx, e)
			p.busy.Add(-1)
			if ctx.Err() != nil {
				return
			}
		}
	}
}

func (p *patient) handle(ctx context.Context, e pevent) {
	if p.s.ending.Load() && e.at >= p.s.sc.Duration.Duration {
		return // after the end
	}
	switch e.kind {
	case evTick:
		if !p.inWard || p.m == nil {
			p.mu.Lock()
			p.tot.Skipped++
			p.mu.Unlock()
			return
		}
		p.publish(ctx)
	case evLeave:
		p.inWard = false
	case evArrive:
		p.arrive(ctx, e.leg)
	}
}

func (p *patient) publish(ctx context.Context) {
	_ = p.m.SampleAll(ctx)
	p.lastSent.Store(p.s.clk.Now().UnixNano())
	p.sentWall.Store(time.Now().UnixNano())
	// At QoS 0 nothing waits for an answer, so nothing needs the
	// driver's small steps.
	p.inflight.Store(*p.s.sc.QoS > 0)
	if err := p.m.PublishVitals(ctx); err != nil {
		p.inflight.Store(false)
	}
}

// arrive: the patient is in ward legs[legNo] (their radio already is, on
// the mesh: the itinerary's timer put it at the bed). The first arrival
// connects the mote in full; every later one moves its session to the
// ward's gateway (Mote.Move): a resume there (HO-RESUME, the gateways'
// session handover), or with Handover "reconnect" (Config.NoHandover) a
// full connect (admission by the TS, topic registration). On the mesh the
// mote's stack first finds the ward's DODAG (RPL: the old parent stops
// answering, a local repair, DIS, the new root's DIO, a DAO and its
// DAO-ACK). The handover's duration is from arrival until the mote can
// publish again: on the sim's clock on the mesh, on the wall clock over
// UDP (the software path; there is no radio).
func (p *patient) arrive(ctx context.Context, legNo int) {
	s, sc := p.s, p.s.sc
	a := s.areas[p.legs[legNo].Area]
	p.legNo = legNo
	p.inWard = true
	if p.m == nil {
		return // it did not start (Sim.setup failed)
	}
	w0, t0 := time.Now(), s.clk.Now()
	cctx, cancel := context.WithCancel(ctx)
	t := s.clk.AfterFunc(sc.HandoverTimeout.Duration, cancel)
	defer func() {
		t.Stop()
		cancel()
	}()
	var err error
	var rejoin time.Duration
	if tr, ok := p.m.Transport().(*mote.MeshTransport); ok {
		err = p.waitInArea(cctx, tr.Stack(), a)
		rejoin = s.clk.Since(t0)
	}
	if legNo == 0 {
		if err == nil {
			err = p.m.Connect(cctx)
		}
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Debug("hospital: connect", "patient", p.group, "area", a.Name(), "err", err)
		}
		return
	}
	var rec mote.MoveRecord
	if err == nil {
		var gw net.Addr // the mesh mote follows its DODAG's root
		if s.med == nil {
			if gw, err = net.ResolveUDPAddr("udp", a.UDPAddr()); err != nil {
				return
			}
		}
		rec, _, err = p.m.Move(cctx, gw)
	}
	d := time.Since(w0)
	if s.med != nil {
		d = s.clk.Since(t0)
	}
	if err != nil && ctx.Err() == nil {
		s.cfg.Logger.Debug("hospital: move", "patient", p.group, "area", a.Name(), "err", err)
	}
	p.mu.Lock()
	p.tot.Handovers++
	switch {
	case err == nil:
		p.tot.Completed++
		p.tot.HandoverDs = append(p.tot.HandoverDs, d)
		if s.med != nil {
			p.tot.RejoinDs = append(p.tot.RejoinDs, rejoin)
		}
		if rec.Resumed {
			p.tot.Resumed++
		}
	case ctx.Err() == nil:
		p.tot.Failed++
	}
	p.mu.Unlock()
	if err == nil {
		p.publish(ctx) // the first reading in the new ward
	}
}

// startMote starts the patient's mote, in Sim.setup: so every mote's
// energy account starts with the scenario (the same under the same seed
// whenever the patient's goroutine gets to run). On the mesh its radio is
// attached to the medium at the patient's first bed; over UDP it gets a
// loopback socket whose frames are estimated (airConn).
func (p *patient) startMote() error {
	s, sc := p.s, p.s.sc
	var tr mote.Transport
	var air *airConn
	if s.med != nil {
		mac := patientMAC(p.idx)
		port, err := s.med.Attach(ieee802154.Ext(mac), uint16(p.idx+1))
		if err != nil {
			return err
		}
		s.med.SetPosition(ieee802154.Ext(mac), p.legs[0].Bed.position())
		mt, err := mote.NewMeshTransport(mote.MeshConfig{Addr: mac, Radio: port, Clock: s.clk,
			Seed: sc.Seed*1_000_003 + uint64(p.idx)*7919 + 1, Logger: s.cfg.Logger.With("patient", p.group)})
		if err != nil {
			port.Close()
			return err
		}
		tr = mt
	} else {
		gw, err := net.ResolveUDPAddr("udp", s.areas[p.legs[0].Area].UDPAddr())
		if err != nil {
			return err
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		air = newAirConn(pc, sc.Loss, sc.Seed*1_000_003+uint64(p.idx)*7919+1)
		air.activity = &s.activity
		tr = mote.NewUDPTransport(air, gw, mote.DefaultLinkModel())
	}
	qos := mqttsn.QoS(*sc.QoS)
	m, err := mote.New(mote.Config{
		ID: p.creds.Name, Area: sc.Areas[p.legs[0].Area], Patient: p.group,
		Seed: sc.Seed*7919 + uint64(p.idx), Scenario: sc.Scenarios[p.idx%len(sc.Scenarios)],
		Thresholds: sc.Alarms.thresholds(),
		Manual:     true, RoutineQoS: qos, AlarmQoS: max(qos, 1),
		Protection: mote.ProtectTS, Suite: sc.Suite, Creds: p.creds,
		NoHandover: sc.Handover == HandoverReconnect,
		Transport:  tr, Clock: s.clk, Logger: s.cfg.Logger.With("patient", p.group),
	})
	if err != nil {
		tr.Close()
		return err
	}
	p.mu.Lock()
	p.m, p.air = m, air
	p.mu.Unlock()
	return nil
}

// endSnapshot records the mote's energy at the scenario's end.
func (p *patient) endSnapshot() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m != nil {
		snap := p.m.Snapshot()
		p.endSnap = &snap
	}
}

// retire closes the mote and adds its accounting to the totals. It is
// idempotent.
func (p *patient) retire() {
	p.mu.Lock()
	m, air, end := p.m, p.air, p.endSnap
	p.m, p.air = nil, nil
	p.mu.Unlock()
	if m == nil {
		return
	}
	snap := m.Snapshot()
	if end != nil {
		snap = *end
	}
	var a [numClasses]uint64
	var lost uint64
	if air != nil {
		a, lost = air.totals()
	}
	m.Close()
	st := m.Stats()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tot.EnergyMJ += snap.TotalMJ()
	p.tot.Elapsed += snap.Elapsed()
	p.tot.Published += st.PublishedVitals + st.PublishedAlarms
	p.tot.Failures += st.PublishFailures
	p.tot.Connects += st.Connects
	p.tot.KeyReqs += st.KeyRequests
	for i := range a {
		p.tot.Air[i] += a[i]
	}
	p.tot.Lost += lost
}

func (p *patient) totals() patientTotals {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tot
	t.HandoverDs = append([]time.Duration(nil), p.tot.HandoverDs...)
	t.RejoinDs = append([]time.Duration(nil), p.tot.RejoinDs...)
	return t
}

// place puts the patient's radio at pt (mesh transport).
func (p *patient) place(pt Point) {
	if p.s.med != nil {
		p.s.med.SetPosition(ieee802154.Ext(patientMAC(p.idx)), pt.position())
	}
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
