package hospital

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/mote"
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

	// owned by run
	ho     *hoNode // handover mode
	m      *mote.Mote
	air    *airConn
	inWard bool
	legNo  int
	timers []clock.Timer
	incarn uint64

	mu  sync.Mutex // guards the totals below (read by summarise after run)
	tot patientTotals
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
	Resumed    uint64 // handover mode: the visited gateway took the session over
	Completed  uint64
	Failed     uint64
	HandoverDs []time.Duration
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
		p.timers = append(p.timers,
			clk.AfterFunc(l.Leave, func() { p.post(pevent{kind: evLeave, leg: i}) }),
			clk.AfterFunc(l.Arrive, func() { p.post(pevent{kind: evArrive, leg: i}) }))
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
		if p.ho != nil && p.inWard {
			p.ho.publish(ctx)
			return
		}
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

// arrive retires the mote of the previous ward and connects afresh in the
// new one (reconnect-based handover).
func (p *patient) arrive(ctx context.Context, legNo int) {
	if p.s.sc.Handover == HandoverSession {
		p.arriveHO(ctx, legNo)
		return
	}
	l := p.legs[legNo]
	p.retire()
	p.legNo = legNo
	a := p.s.areas[l.Area]
	gw, err := net.ResolveUDPAddr("udp", a.UDPAddr())
	if err != nil {
		return
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return
	}
	p.incarn++
	p.air = newAirConn(pc, p.s.sc.Loss, p.s.sc.Seed*1_000_003+uint64(p.idx)*7919+p.incarn)
	p.air.activity = &p.s.activity
	sc := p.s.sc
	qos := mqttsn.QoS(*sc.QoS)
	m, err := mote.New(mote.Config{
		ID: p.creds.Name, Area: sc.Areas[p.legs[0].Area], Patient: p.group,
		Seed: sc.Seed*7919 + uint64(p.idx), Scenario: sc.Scenarios[p.idx%len(sc.Scenarios)],
		Thresholds: sc.Alarms.thresholds(),
		Manual:     true, RoutineQoS: qos, AlarmQoS: max(qos, 1),
		Protection: mote.ProtectTS, Suite: sc.Suite, Creds: p.creds,
		Transport: mote.NewUDPTransport(p.air, gw, mote.DefaultLinkModel()),
		Clock:     p.s.clk, Logger: p.s.cfg.Logger.With("patient", p.group),
	})
	if err != nil {
		pc.Close()
		p.air = nil
		return
	}
	p.m = m
	p.inWard = true
	t0, w0 := p.s.clk.Now(), time.Now()
	cctx, cancel := context.WithCancel(ctx)
	t := p.s.clk.AfterFunc(sc.HandoverTimeout.Duration, cancel)
	err = m.Connect(cctx)
	t.Stop()
	cancel()
	_ = t0
	d := time.Since(w0)
	if legNo > 0 {
		p.mu.Lock()
		p.tot.Handovers++
		if err == nil {
			p.tot.Completed++
			p.tot.HandoverDs = append(p.tot.HandoverDs, d)
		} else if ctx.Err() == nil {
			p.tot.Failed++
		}
		p.mu.Unlock()
	}
	if err == nil && legNo > 0 {
		p.publish(ctx) // the first reading in the new ward
	}
}

// arriveHO connects in full in the first ward, and moves the session to
// the next ward's gateway afterwards (gateway/handoverclient).
func (p *patient) arriveHO(ctx context.Context, legNo int) {
	gw, err := net.ResolveUDPAddr("udp", p.s.areas[p.legs[legNo].Area].UDPAddr())
	if err != nil {
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	t := p.s.clk.AfterFunc(p.s.sc.HandoverTimeout.Duration, cancel)
	defer func() {
		t.Stop()
		cancel()
	}()
	if p.ho == nil {
		h, err := newHONode(ctx, p, gw)
		if err != nil {
			p.s.cfg.Logger.Warn("hospital: node", "patient", p.group, "err", err)
			return
		}
		p.ho = h
		p.inWard = true
		if err := h.connect(cctx); err != nil {
			p.s.cfg.Logger.Debug("hospital: connect", "patient", p.group, "err", err)
		}
		return
	}
	p.inWard = true
	w0 := time.Now()
	res := p.ho.node.Move(cctx, gw)
	d := time.Since(w0)
	p.ho.connected = res.Err == nil
	p.mu.Lock()
	p.tot.Handovers++
	switch {
	case res.Err == nil:
		p.tot.Completed++
		p.tot.HandoverDs = append(p.tot.HandoverDs, d)
		if res.Resumed {
			p.tot.Resumed++
		}
	case ctx.Err() == nil:
		p.tot.Failed++
	}
	p.mu.Unlock()
	if res.Err == nil {
		p.ho.publish(ctx) // the first reading in the new ward
	}
}

// retire closes the current mote and adds its accounting to the totals.
func (p *patient) retire() {
	if h := p.ho; h != nil {
		p.ho = nil
		snap := h.snapshot()
		a, lost := h.air.totals()
		h.mu.Lock()
		st := h.stats
		h.mu.Unlock()
		h.close()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.tot.EnergyMJ += snap.TotalMJ()
		p.tot.Elapsed += snap.Elapsed()
		p.tot.Published += st.Published
		p.tot.Failures += st.Failures
		p.tot.Connects += st.Connects
		p.tot.KeyReqs += st.KeyRequests
		for i := range a {
			p.tot.Air[i] += a[i]
		}
		p.tot.Lost += lost
		return
	}
	if p.m == nil {
		return
	}
	m, air := p.m, p.air
	p.m, p.air = nil, nil
	// Account before Close: Close sends DISCONNECT without waiting, and
	// whether the gateway's answer is read before the socket closes is a
	// race; so the goodbye is not counted (energy or air).
	snap := m.Snapshot()
	a, lost := air.totals()
	m.Close()
	st := m.Stats()
	air.PacketConn.Close()
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
	return t
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
