package hospital

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/node/vtime"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/trust/gatewayauth"
	"github.com/lsmqtt/lsmqtt/trust/monitor"
	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Config configures a simulation run.
type Config struct {
	Scenario *Scenario
	// Virtual runs on a virtual clock, as fast as the machine allows;
	// otherwise the run takes Scenario.Duration of wall time.
	Virtual bool
	// Progress, if set, gets a one-line progress bar redrawn every second
	// of wall time.
	Progress io.Writer
	// OnSecond, if set, is called about once per second of wall time (on
	// the run's goroutine) with the simulation, for live views.
	OnSecond func(*Sim)
	// BrokerTCP, if set, exposes each area's broker on TCP: a listen
	// address per area ("127.0.0.1:0" for ephemeral ports), so that
	// `lsmqtt monitor` can watch the run.
	BrokerTCP []string
	// TSAddr, if set, serves the Trusted System over UDP there, and
	// CaregiverFile, if set, receives a caregiver credential file granted
	// every patient (mode 0600), for `lsmqtt monitor`.
	TSAddr        string
	CaregiverFile string
	// Pcap, if set, receives every frame on the radio medium as a pcap
	// file (LINKTYPE_IEEE802_15_4_WITHFCS; mesh transport only).
	Pcap io.Writer
	// Capture, if set, also gets every frame (mesh transport only).
	Capture medium.Capture
	// Started, if set, is called once everything is up.
	Started func(*Sim)
	Logger  *slog.Logger
}

// Sim is a running simulation.
type Sim struct {
	cfg   Config
	sc    *Scenario
	clk   clock.Clock
	vclk  *clock.Virtual
	start time.Time
	plan  [][]leg
	prof  *profile.Profile

	dir      string
	reg      *registry.Registry
	svc      *ts.Service
	tsServer *ts.Server
	tsConn   net.PacketConn
	areas    []*area.Area
	med      *medium.Medium // mesh transport
	air      *airFrames     // mesh transport: frames by class
	reader   *tsclient.Reader
	mon      *monitor.Monitor
	patients []*patient
	byGroup  map[string]*patient

	activity atomic.Uint64

	// handover mode: each gateway's peer socket
	peerConns  []net.PacketConn
	peerCtx    context.Context
	peerCancel context.CancelFunc
	peerWG     sync.WaitGroup
	// ending is set when the duration is over: patients take no new work
	// and the run waits for the work in flight to finish.
	ending atomic.Bool

	latMu sync.Mutex
	lats  []latencySample
}

type latencySample struct {
	At      time.Duration // since the start
	Latency time.Duration
}

// Monitor is the caregivers' station: the view of every patient.
func (s *Sim) Monitor() *monitor.Monitor { return s.mon }

// Elapsed is the simulated time so far.
func (s *Sim) Elapsed() time.Duration { return s.clk.Since(s.start) }

// Scenario is the scenario being run.
func (s *Sim) Scenario() *Scenario { return s.sc }

// AreaName returns the name of the area a gateway or broker label belongs to.
func (s *Sim) AreaName(i int) string { return s.sc.Areas[i] }

// BrokerAddrs are the areas' MQTT listener addresses (with Config.BrokerTCP).
func (s *Sim) BrokerAddrs() []string {
	var out []string
	for _, a := range s.areas {
		out = append(out, a.Broker.TCPAddr())
	}
	return out
}

// TSAddr is the Trusted System's UDP address (with Config.TSAddr).
func (s *Sim) TSAddr() string {
	if s.tsConn == nil {
		return ""
	}
	return s.tsConn.LocalAddr().String()
}

var epoch = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// Run runs the scenario and returns its summary.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("hospital: no scenario")
	}
	if err := cfg.Scenario.Defaults(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{cfg: cfg, sc: cfg.Scenario, byGroup: map[string]*patient{}}
	if cfg.Virtual {
		s.vclk = clock.NewVirtual(epoch)
		s.clk = s.vclk
	} else {
		s.clk = clock.Real{}
	}
	defer s.close()
	wallStart := time.Now()
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	// Simulated time counts from here: the setup (registering every node
	// in the TS) is not part of the scenario.
	s.start = s.clk.Now()
	setupWall := time.Since(wallStart)
	if cfg.Started != nil {
		cfg.Started(s)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, p := range s.patients {
		wg.Add(1)
		// Busy from before the goroutine starts until run has armed its
		// timers and queued the first arrival: otherwise a driver that
		// starts first sees nothing pending and jumps to the end.
		p.busy.Add(1)
		go func() {
			defer wg.Done()
			p.run(rctx)
		}()
	}
	err := s.drive(ctx)
	end := s.clk.Now()
	cancel()
	wg.Wait()
	for _, p := range s.patients {
		p.retire()
	}
	sum := s.summarise(end.Sub(s.start), time.Since(wallStart))
	sum.SetupS = setupWall.Seconds()
	if s.cfg.Progress != nil {
		fmt.Fprintln(s.cfg.Progress)
	}
	if err != nil && ctx.Err() != nil {
		sum.Interrupted = true
		return sum, nil
	}
	return sum, err
}

func (s *Sim) setup(ctx context.Context) (err error) {
	sc := s.sc
	if s.prof, err = profile.Load("z1"); err != nil {
		return err
	}
	if s.dir, err = os.MkdirTemp(scratchDir(), "lsmqtt-sim-"); err != nil {
		return err
	}
	if s.reg, err = registry.Open(filepath.Join(s.dir, "ts.db"), registry.Options{Clock: s.clk}); err != nil {
		return err
	}
	if s.svc, err = ts.NewService(ts.Config{Registry: s.reg, Clock: s.clk, AllowInsecure: sc.Suite == "paper-xor",
		Logger: s.cfg.Logger.With("part", "ts")}); err != nil {
		return err
	}
	if s.cfg.TSAddr != "" {
		if s.tsConn, err = net.ListenPacket("udp", s.cfg.TSAddr); err != nil {
			return err
		}
		s.tsServer = ts.NewServer(s.svc)
		go func() { _ = s.tsServer.Serve(ctx, s.tsConn) }()
	}
	// The caregivers' station: granted every patient.
	cg, err := s.reg.RegisterCaregiver("station")
	if err != nil {
		return err
	}
	creds := &tsclient.Credentials{Name: cg.Name, Kind: string(cg.Kind), PSS: append([]byte(nil), cg.PSS...)}
	cg.Wipe()
	defer creds.Wipe()
	if s.reader, err = tsclient.NewReader(tsclient.ReaderConfig{Creds: creds, Exchanger: area.LocalExchanger{Service: s.svc},
		AllowInsecure: sc.Suite == "paper-xor", Clock: s.clk, Logger: s.cfg.Logger}); err != nil {
		return err
	}
	s.mon = monitor.New(monitor.Config{Opener: s.reader, Clock: s.clk, OnEvent: s.onEvent, Logger: s.cfg.Logger})

	mesh := sc.Transport == TransportMesh
	if !mesh && (s.cfg.Pcap != nil || s.cfg.Capture != nil) {
		return errors.New("hospital: a pcap capture needs the mesh transport (there is no radio over UDP)")
	}
	if mesh {
		if s.cfg.Pcap != nil {
			pc, err := medium.NewPcapCapture(s.cfg.Pcap, medium.CaptureWPAN, 0)
			if err != nil {
				return err
			}
			if s.cfg.Capture != nil {
				s.cfg.Capture = teeCapture{s.cfg.Capture, pc}
			} else {
				s.cfg.Capture = pc
			}
		}
		s.med = s.newMedium()
	}
	var peers []*gateway.PeeringConfig
	if sc.Handover == HandoverSession {
		if peers, err = s.peering(); err != nil {
			return err
		}
	}
	for i, name := range sc.Areas {
		gwName := "gw-" + name
		acfg := area.Config{Number: i + 1, Name: gwName, UDP: !mesh, Clock: s.clk,
			Mesh: mesh, Medium: s.med, RouterPosition: sc.wardCentre(i).position(),
			Logger: slog.New(quietHandler{s.cfg.Logger.Handler()}).With("area", name),
			Gateway: gateway.Config{
				Authenticator: &gatewayauth.Authenticator{Gateway: gwName, Verifier: s.svc.Verifier()},
				Extensions:    map[byte]gateway.ExtensionHandler{byte(mqttsn.TypeTSKeyRequest): area.KeyRelay(s.svc)},
			}}
		if i < len(s.cfg.BrokerTCP) {
			acfg.BrokerTCP = s.cfg.BrokerTCP[i]
		}
		if peers != nil {
			acfg.Gateway.Peering = peers[i]
		}
		a, err := area.Start(ctx, acfg)
		if err != nil {
			return fmt.Errorf("hospital: area %s: %w", name, err)
		}
		s.areas = append(s.areas, a)
		if peers != nil {
			pc := s.peerConns[i]
			s.peerWG.Add(1)
			go func() {
				defer s.peerWG.Done()
				_ = a.Gateway.ServePeers(s.peerCtx, pc)
			}()
		}
		label := name
		a.Broker.Server().Topics.InlineSubscribe(mqtt.InlineSubscription{
			Subscription: packets.Subscription{Filter: "ward/+/patient/+/#", Identifier: 1<<29 + i, Qos: 1},
			Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
				s.activity.Add(1)
				_ = s.mon.Handle(ctx, label, pk.TopicName, pk.Payload)
			},
		})
	}

	s.plan = sc.plan()
	width := len(fmt.Sprint(sc.Patients))
	for i := range sc.Patients {
		group := fmt.Sprintf("p%0*d", width, i+1)
		nc, err := s.reg.RegisterNode("z1-"+group, group)
		if err != nil {
			return err
		}
		if err := s.reg.Grant("station", group); err != nil {
			return err
		}
		p := &patient{s: s, idx: i, group: group, legs: s.plan[i],
			creds: &tsclient.Credentials{Name: nc.Name, Kind: string(nc.Kind), PSS: append([]byte(nil), nc.PSS...),
				Sender: nc.Sender, Group: nc.Group}}
		nc.Wipe()
		s.patients = append(s.patients, p)
		s.byGroup[group] = p
	}
	for _, p := range s.patients {
		if err := p.startMote(); err != nil {
			return fmt.Errorf("hospital: mote of %s: %w", p.group, err)
		}
	}
	if s.cfg.CaregiverFile != "" {
		if err := s.writeCaregiver(s.cfg.CaregiverFile); err != nil {
			return err
		}
	}
	return nil
}

// writeCaregiver registers a caregiver for outside tools, granted every
// patient, and writes its credential file.
func (s *Sim) writeCaregiver(path string) error {
	cg, err := s.reg.RegisterCaregiver("monitor")
	if err != nil {
		return err
	}
	defer cg.Wipe()
	for _, p := range s.patients {
		if err := s.reg.Grant("monitor", p.group); err != nil {
			return err
		}
	}
	c := &tsclient.Credentials{Name: cg.Name, Kind: string(cg.Kind), PSS: append([]byte(nil), cg.PSS...), TS: s.TSAddr()}
	defer c.Wipe()
	return tsclient.SaveCredentials(path, c, true)
}

// onEvent measures the latency of vitals: from the publish call on the
// mote to the station opening it. Over UDP on the wall clock (the software
// path over loopback UDP: sealing, MQTT-SN, gateway, broker, opening; no
// radio airtime), in both clock modes: virtual time between two events is
// quantised by the driver's steps and says nothing about the software. On
// the mesh on the sim's clock: there the radio (airtime, backoff,
// acknowledgements, fragments) dominates, and it runs on that clock.
func (s *Sim) onEvent(ev monitor.Event) {
	if ev.Error != "" || ev.Kind != "vitals" {
		return
	}
	p := s.byGroup[ev.Patient]
	if p == nil {
		return
	}
	sent := p.sentWall.Load()
	if sent == 0 {
		return
	}
	p.inflight.Store(false)
	lat := time.Duration(time.Now().UnixNano() - sent)
	if s.med != nil {
		lat = ev.At.Sub(time.Unix(0, p.lastSent.Load()))
	}
	s.latMu.Lock()
	s.lats = append(s.lats, latencySample{At: ev.At.Sub(s.start), Latency: lat})
	s.latMu.Unlock()
}

// latencyClock is the clock latencies and handover durations are measured
// on: "emulated" on the mesh, "wall" over UDP.
func (s *Sim) latencyClock() string {
	if s.med != nil {
		return "emulated"
	}
	return "wall"
}

// drive moves time until the scenario's duration has passed.
func (s *Sim) drive(ctx context.Context) error {
	total := s.sc.Duration.Duration
	lastTick := time.Now()
	tick := func() {
		if time.Since(lastTick) < time.Second {
			return
		}
		lastTick = time.Now()
		s.progress(total)
		if s.cfg.OnSecond != nil {
			s.cfg.OnSecond(s)
		}
	}
	if s.vclk != nil {
		drv := &vtime.Driver{Clock: s.vclk, Busy: s.busy, Activity: s.activity.Load}
		// Busy counts while the system showed activity within the last
		// 2 s of emulated time: an answer still being computed is waited
		// for (in 1 ms steps with loss), a lost one lets the clock jump to
		// the retransmission timer.
		drv.BusyWindow = 2 * time.Second
		switch {
		case s.med != nil:
			// On the mesh every frame waits for timers (airtime, CSMA
			// backoff, acknowledgements): the clock must move while a
			// patient is busy, in steps short against a frame's airtime
			// (at least 192 µs) so the goroutines (gateway, broker, mote
			// clients) answer at their emulated times.
			drv.Step = meshStep
		case s.sc.Loss == 0:
			// Nothing in flight waits for a timer when no datagram is
			// lost: while anything is busy the clock barely moves, so
			// events keep their emulated times (determinism).
			drv.Step = time.Nanosecond
		}
		for s.Elapsed() < total {
			step := min(time.Second, total-s.Elapsed())
			if err := drv.RunFor(ctx, step); err != nil {
				return err
			}
			tick()
		}
		s.endSnapshots()
		s.ending.Store(true)
		if _, err := drv.RunUntil(ctx, func() bool { return !s.busy() }, time.Minute); err != nil {
			return err
		}
		s.progress(total)
		return nil
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	deadline := time.NewTimer(total)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			s.endSnapshots()
			s.ending.Store(true)
			// The work in flight, on the wall clock: patients mid-publish,
			// then the brokers' deliveries to the station (a gateway acks
			// before its broker has delivered).
			end := time.Now().Add(30 * time.Second)
			for s.busy() && time.Now().Before(end) {
				time.Sleep(10 * time.Millisecond)
			}
			for last, quiet := s.mon.Stats().Messages, 0; quiet < 50 && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
				if n := s.mon.Stats().Messages; n != last {
					last, quiet = n, 0
				} else {
					quiet++
				}
			}
			s.progress(total)
			return nil
		case <-t.C:
			tick()
		}
	}
}

// meshStep bounds the virtual clock's steps while a patient is busy on the
// mesh.
const meshStep = 20 * time.Microsecond

func (s *Sim) endSnapshots() {
	if s.air != nil {
		s.air.freeze()
	}
	for _, p := range s.patients {
		p.endSnapshot()
	}
}

func (s *Sim) busy() bool {
	for _, p := range s.patients {
		if p.isBusy() {
			return true
		}
	}
	return false
}

func (s *Sim) progress(total time.Duration) {
	if s.cfg.Progress == nil {
		return
	}
	el := min(s.Elapsed(), total)
	const width = 30
	n := int(float64(width) * float64(el) / float64(total))
	bar := make([]byte, width)
	for i := range bar {
		if i < n {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	st := s.mon.Stats()
	fmt.Fprintf(s.cfg.Progress, "\r[%s] %3d%% %v/%v  delivered %d", bar, int(100*float64(el)/float64(total)),
		el.Truncate(time.Second), total, st.Opened)
}

func (s *Sim) close() {
	for _, p := range s.patients {
		p.retire() // a no-op for those Run retired
	}
	if s.peerCancel != nil {
		s.peerCancel()
	}
	for _, a := range s.areas {
		a.Close()
	}
	for _, pc := range s.peerConns {
		pc.Close()
	}
	if s.med != nil {
		s.med.Close()
	}
	s.peerWG.Wait()
	if s.tsConn != nil {
		s.tsConn.Close()
	}
	if s.reader != nil {
		s.reader.Close()
	}
	if s.svc != nil {
		s.svc.Close()
	}
	if s.reg != nil {
		s.reg.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// teeCapture sends every frame to several captures.
type teeCapture []medium.Capture

func (t teeCapture) WriteFrame(at time.Time, psdu []byte) error {
	for _, c := range t {
		if err := c.WriteFrame(at, psdu); err != nil {
			return err
		}
	}
	return nil
}

// quietHandler passes only warnings and errors: the embedded broker logs
// every start and stop at info level, which would drown a summary.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(as)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

// scratchDir is where the run's TS registry lives: a tmpfs when there is
// one, because the registry fsyncs every registration (thousands at scale)
// and the file is thrown away at the end.
func scratchDir() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "lsmqtt-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// peering opens every gateway's peer socket and makes each gateway the peer
// of every other, with a fresh key per pair (handover mode).
func (s *Sim) peering() ([]*gateway.PeeringConfig, error) {
	s.peerCtx, s.peerCancel = context.WithCancel(context.Background())
	n := len(s.sc.Areas)
	hub := &peerHub{activity: &s.activity}
	for i := range n {
		s.peerConns = append(s.peerConns, hub.listen(i))
	}
	keys := make([][][]byte, n)
	for i := range keys {
		keys[i] = make([][]byte, n)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			k := make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return nil, err
			}
			keys[i][j], keys[j][i] = k, k
		}
	}
	out := make([]*gateway.PeeringConfig, n)
	for i, a := range s.sc.Areas {
		pc := &gateway.PeeringConfig{Name: "gw-" + a, Verifier: proofVerifier{s.svc.Verifier()}}
		for j, b := range s.sc.Areas {
			if j != i {
				pc.Peers = append(pc.Peers, gateway.Peer{Name: "gw-" + b, Addr: s.peerConns[j].LocalAddr().String(), Key: keys[i][j]})
			}
		}
		out[i] = pc
	}
	return out, nil
}

// proofVerifier asks the in-process TS about a node's proof in a resume
// (gateway.ProofVerifier).
type proofVerifier struct{ v tsclient.Verifier }

func (v proofVerifier) VerifyProof(ctx context.Context, gw, id string, ch, proof []byte) error {
	verdict, err := v.v.VerifyAdmission(ctx, gw, id, ch, proof)
	if err != nil {
		return err
	}
	if !verdict.Admitted() {
		return fmt.Errorf("%w: %v", gateway.ErrNotAdmitted, verdict.Status)
	}
	return nil
}
