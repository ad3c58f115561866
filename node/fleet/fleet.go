package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/mobility"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/vtime"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Config configures a Fleet.
type Config struct {
	// Count motes are numbered First, First+1, ...; mote n's client id is
	// Prefix followed by n in Digits digits (default "z1-", 1, 4: z1-0001).
	Count  int
	Prefix string
	First  int
	Digits int

	// Mote is the template of every mote (profile, rates, QoS, suite,
	// scenario, protection). ID, Creds, Seed, Transport, Clock and Logger
	// are set per mote; an empty Patient becomes the mote's group (or its
	// number).
	Mote mote.Config

	// Where the motes go: exactly one of UDP (a gateway's host:port), Area
	// (an in-process area: its mesh, or its UDP socket when AreaUDP is set
	// or it has no mesh) and ZEP (a medium process's host:port; the gateway
	// is the DODAG root's).
	UDP     string
	Area    *area.Area
	AreaUDP bool
	ZEP     string
	// Spacing is the distance between neighbouring motes on the mesh grid
	// around the border router (default 30 m).
	Spacing   float64
	LinkModel mote.LinkModel // UDP frame estimate (default DefaultLinkModel)

	// Mobility, when set (in-process mesh only), gives mote n (client id
	// id, placed first at home) a mobility model; nil for a mote that
	// stays put. A mobility.Mover applies the models every MoveTick
	// (default 1 s) while the fleet runs.
	Mobility func(n int, id string, home medium.Position) mobility.Model
	MoveTick time.Duration

	// Credentials: CredDir holds one credential file per mote; Register
	// registers every mote in Area's Trusted System instead. Neither: no
	// credentials (payloads in plaintext, open gateways only).
	CredDir  string
	Register bool

	// Clock is shared by every mote (and should be the Area's). A
	// *clock.Virtual is driven by the fleet.
	Clock  clock.Clock
	Seed   uint64
	Logger *slog.Logger
}

// Fleet is a set of motes run together.
type Fleet struct {
	cfg     Config
	motes   []*mote.Mote
	virtual *clock.Virtual
	drv     *vtime.Driver
	udpArea bool
	mover   *mobility.Mover
}

// ID is the client id of mote number n.
func (c *Config) ID(n int) string { return fmt.Sprintf("%s%0*d", c.Prefix, c.Digits, n) }

// MoteMAC is the EUI-64 of mote number n on a mesh.
func MoteMAC(n int) ieee802154.ExtAddr {
	return ieee802154.ExtAddr{0x02, 0, 0, 0x01, 0, byte(n >> 16), byte(n >> 8), byte(n)}
}

// GridPosition places the i-th mote (from 0) of count on a square grid
// centred on the border router at the origin, spacing metres apart,
// skipping the centre.
func GridPosition(i, count int, spacing float64) medium.Position {
	side := int(math.Ceil(math.Sqrt(float64(count + 1))))
	c := (side - 1) / 2
	k := i
	if k >= c*side+c { // skip the router's cell
		k++
	}
	return medium.Position{X: float64(k%side-c) * spacing, Y: float64(k/side-c) * spacing}
}

// New builds the motes (and their transports); nothing runs until Run.
func New(cfg Config) (f *Fleet, err error) {
	if cfg.Count < 1 {
		return nil, errors.New("fleet: count must be at least 1")
	}
	where := 0
	for _, set := range []bool{cfg.UDP != "", cfg.Area != nil, cfg.ZEP != ""} {
		if set {
			where++
		}
	}
	if where != 1 {
		return nil, errors.New("fleet: set exactly one of UDP, Area and ZEP")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "z1-"
	}
	if cfg.First == 0 {
		cfg.First = 1
	}
	if cfg.Digits == 0 {
		cfg.Digits = 4
	}
	if cfg.Spacing <= 0 {
		cfg.Spacing = 30
	}
	if cfg.LinkModel == (mote.LinkModel{}) {
		cfg.LinkModel = mote.DefaultLinkModel()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Register && (cfg.Area == nil || cfg.Area.Registry == nil) {
		return nil, errors.New("fleet: Register needs an Area with a Trusted System")
	}
	f = &Fleet{cfg: cfg}
	f.virtual, _ = cfg.Clock.(*clock.Virtual)
	f.udpArea = cfg.Area != nil && (cfg.AreaUDP || cfg.Area.Medium == nil)
	if f.virtual != nil && cfg.Area == nil {
		return nil, errors.New("fleet: a virtual clock needs an in-process area (external gateways keep real time)")
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	for i := range cfg.Count {
		n := cfg.First + i
		m, err := f.newMote(i, n)
		if err != nil {
			return nil, err
		}
		f.motes = append(f.motes, m)
	}
	if f.virtual != nil {
		f.drv = &vtime.Driver{Clock: f.virtual, Busy: f.busy, Activity: f.activity}
	}
	if cfg.Mobility != nil {
		if cfg.Area == nil || cfg.Area.Medium == nil || f.udpArea {
			return nil, errors.New("fleet: mobility needs the in-process mesh")
		}
		f.mover = mobility.NewMover(cfg.Area.Medium, cfg.Clock, cfg.MoveTick)
		for i, m := range f.motes {
			n := cfg.First + i
			if model := cfg.Mobility(n, m.ID(), GridPosition(i, cfg.Count, cfg.Spacing)); model != nil {
				f.mover.Add(ieee802154.Ext(MoteMAC(n)), model)
			}
		}
	}
	return f, nil
}

func (f *Fleet) newMote(i, n int) (*mote.Mote, error) {
	cfg := f.cfg
	id := cfg.ID(n)
	mc := cfg.Mote
	mc.ID, mc.Seed, mc.Clock = id, cfg.Seed+uint64(n), cfg.Clock
	mc.Logger = cfg.Logger.With("node", id)
	switch {
	case cfg.Register:
		creds, err := cfg.Area.RegisterNode(id, fmt.Sprint(n))
		if err != nil {
			return nil, fmt.Errorf("fleet: register %s: %w", id, err)
		}
		mc.Creds = creds
	case cfg.CredDir != "":
		creds, err := loadCreds(cfg.CredDir, id)
		if err != nil {
			return nil, err
		}
		mc.Creds = creds
	}
	if mc.Patient == "" && mc.Creds == nil {
		mc.Patient = fmt.Sprint(n)
	}
	tr, err := f.transport(i, n)
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", id, err)
	}
	mc.Transport = tr
	m, err := mote.New(mc)
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("fleet: %s: %w", id, err)
	}
	return m, nil
}

func (f *Fleet) transport(i, n int) (mote.Transport, error) {
	cfg := f.cfg
	switch {
	case cfg.UDP != "":
		return mote.DialUDP(cfg.UDP, cfg.LinkModel)
	case f.udpArea:
		return mote.DialUDP(cfg.Area.UDPAddr(), cfg.LinkModel)
	}
	mac := MoteMAC(n)
	var radio medium.Radio
	if cfg.ZEP != "" {
		ua, err := net.ResolveUDPAddr("udp", cfg.ZEP)
		if err != nil {
			return nil, err
		}
		r, err := medium.DialZEP(medium.ZEPRadioConfig{Medium: ua, DeviceID: uint16(n), Clock: cfg.Clock})
		if err != nil {
			return nil, err
		}
		radio = r
	} else {
		md := cfg.Area.Medium
		port, err := md.Attach(ieee802154.Ext(mac), uint16(n))
		if err != nil {
			return nil, err
		}
		md.SetPosition(ieee802154.Ext(mac), GridPosition(i, cfg.Count, cfg.Spacing))
		radio = port
	}
	tr, err := mote.NewMeshTransport(mote.MeshConfig{Addr: mac, Radio: radio, Clock: cfg.Clock,
		Seed: cfg.Seed ^ uint64(n)*0x9e3779b97f4a7c15, Logger: cfg.Logger})
	if err != nil {
		radio.Close()
		return nil, err
	}
	return tr, nil
}

// loadCreds finds the credential file of id in dir.
func loadCreds(dir, id string) (*tsclient.Credentials, error) {
	for _, name := range []string{id + ".json", id + ".cred", id} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return tsclient.LoadCredentials(p)
		}
	}
	return nil, fmt.Errorf("fleet: no credential file for %s in %s (%s.json, %s.cred or %s)", id, dir, id, id, id)
}

// Motes returns the fleet's motes.
func (f *Fleet) Motes() []*mote.Mote { return f.motes }

// Virtual reports whether the fleet runs on a virtual clock.
func (f *Fleet) Virtual() bool { return f.virtual != nil }

// busy: a mote is working, or (UDP to the in-process gateway) datagrams
// are in sockets where the clock cannot see them.
func (f *Fleet) busy() bool {
	var sent, recv uint64
	for _, m := range f.motes {
		if m.Busy() {
			return true
		}
		s, r := m.Datagrams()
		sent, recv = sent+s, recv+r
	}
	if f.udpArea {
		g := f.cfg.Area.Gateway.Stats()
		return sent > g.MessagesIn || g.MessagesOut > recv
	}
	return false
}

func (f *Fleet) activity() uint64 {
	var n uint64
	for _, m := range f.motes {
		s, r := m.Datagrams()
		fc := m.Frames()
		n += s + r + fc.TxFrames + fc.RxFrames + fc.OverheardFrames
	}
	return n
}

// Run runs every mote for d (emulated time on a virtual clock, which must
// be given a d; real time otherwise, where d = 0 means until ctx ends).
// Every `every` (same time base; 0: never) it calls tick. On return every
// mote has stopped (its client closed); Report and Stats still work.
func (f *Fleet) Run(ctx context.Context, d, every time.Duration, tick func()) error {
	if f.virtual != nil && d <= 0 {
		return errors.New("fleet: a virtual-clock run needs a duration")
	}
	mctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, m := range f.motes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Run(mctx); err != nil {
				f.cfg.Logger.Warn("mote stopped", "node", m.ID(), "err", err)
			}
		}()
	}
	if f.mover != nil {
		f.mover.Start()
		defer f.mover.Stop()
	}
	var err error
	if f.virtual != nil {
		err = f.driveVirtual(ctx, d, every, tick)
	} else {
		err = waitReal(ctx, d, every, tick)
	}
	cancel()
	wg.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil // interrupted: still a normal end with a report
	}
	return err
}

func (f *Fleet) driveVirtual(ctx context.Context, d, every time.Duration, tick func()) error {
	end := f.virtual.Now().Add(d)
	for {
		left := end.Sub(f.virtual.Now())
		if left <= 0 {
			return nil
		}
		chunk := left
		if every > 0 && every < chunk {
			chunk = every
		}
		if err := f.drv.RunFor(ctx, chunk); err != nil {
			return err
		}
		if tick != nil && every > 0 {
			tick()
		}
	}
}

func waitReal(ctx context.Context, d, every time.Duration, tick func()) error {
	var done <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		done = t.C
	}
	var ticks <-chan time.Time
	if every > 0 && tick != nil {
		tk := time.NewTicker(every)
		defer tk.Stop()
		ticks = tk.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return nil
		case <-ticks:
			tick()
		}
	}
}

// Stats returns every mote's counters.
func (f *Fleet) Stats() []mote.Stats {
	out := make([]mote.Stats, len(f.motes))
	for i, m := range f.motes {
		out[i] = m.Stats()
	}
	return out
}

// Report returns the energy report of every mote so far.
func (f *Fleet) Report() *Report {
	r := &Report{Clock: "real", Transport: "udp"}
	if f.virtual != nil {
		r.Clock = "virtual"
	}
	if len(f.motes) > 0 {
		r.Transport = f.motes[0].Transport().Kind()
		r.Suite = f.motes[0].Stats().Suite
	}
	var life float64
	for _, m := range f.motes {
		n := NodeEnergy(m)
		r.Nodes = append(r.Nodes, n)
		r.ElapsedS = math.Max(r.ElapsedS, n.ElapsedS)
		r.TotalMJ += n.TotalMJ
		r.MeanPowerMW += n.PowerMW
		life += n.Lifetime
	}
	if k := float64(len(r.Nodes)); k > 0 {
		r.MeanPowerMW /= k
		r.MeanLifetime = life / k
	}
	return r
}

// Close releases every mote (clients, keys, transports).
func (f *Fleet) Close() error {
	for _, m := range f.motes {
		m.Close()
	}
	return nil
}
