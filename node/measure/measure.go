package measure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/eval"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/node/vtime"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// Config configures a measurement.
type Config struct {
	Profile *profile.Profile // default z1
	// Schemes to run (default paper-xor, ascon128, aes128-ccm8; cb-dtls
	// cannot be run and is refused).
	Schemes      []eval.Scheme
	Transactions int           // per scheme (default 20)
	Spacing      time.Duration // between transaction starts (default 10 s)
	QoS          mqttsn.QoS    // of the publish and the subscription (default 1; set NoDefaultQoS for 0)
	NoDefaultQoS bool
	// UDP runs the motes over loopback UDP with estimated frames instead of
	// the emulated mesh.
	UDP bool
	// Distance of each mote from the border router, in metres (default 20).
	Distance float64
	// Settle is how long the mesh runs after the motes joined and before
	// the setup window (default 30 minutes of emulated time), so that
	// Trickle has slowed the DIOs to their steady pace (RFC 6206) and the
	// windows see the routing traffic of a settled network.
	Settle time.Duration
	// CountOverheard charges the motes for frames they overhear (their
	// radios always listening). Off by default: a duty-cycled radio
	// (ContikiMAC) wakes for a few milliseconds per channel check and
	// rarely catches its neighbours' frames.
	CountOverheard bool
	// SessionTx spreads the measured setup (default eval.DefaultSessionTx).
	SessionTx int
	// Dir holds the TS registries (default: a temporary directory, removed).
	Dir    string
	Seed   uint64
	Logger *slog.Logger
}

// Transaction is one transaction's meter deltas.
type Transaction struct {
	Publisher  energy.Snapshot `json:"publisher"`
	Subscriber energy.Snapshot `json:"subscriber"`
}

// Result is the measurement of one scheme.
type Result struct {
	Scheme  eval.Scheme  `json:"scheme"`
	Figures eval.Figures `json:"figures"`
	// Run is the steady-state window of N transactions.
	Run eval.MeasuredRun `json:"-"`
	// Setup is the setup window (connect, admission, key delivery,
	// subscribe, one warm-up transaction) of each mote.
	Setup Transaction `json:"setup"`
	// Background is a window as long as the transaction window, after the
	// setup, without transactions; Window is the transaction window.
	Background        Transaction `json:"background"`
	Window            Transaction `json:"window"`
	BackgroundPowerMW float64     `json:"background_power_mw"` // the publisher's

	PerTx        []Transaction `json:"transactions"`
	EmulatedTime time.Duration `json:"emulated_ns"`
}

func (c *Config) defaults() error {
	if c.Profile == nil {
		p, err := profile.Load(profile.Default)
		if err != nil {
			return err
		}
		c.Profile = p
	}
	if len(c.Schemes) == 0 {
		c.Schemes = []eval.Scheme{eval.PaperXOR, eval.Ascon128, eval.AES128CCM8}
	}
	for _, s := range c.Schemes {
		if s == eval.CBDTLS {
			return errors.New("measure: cb-dtls cannot be run in the emulator (no DTLS); it stays modelled")
		}
		if _, err := eval.ParseScheme(string(s)); err != nil {
			return err
		}
	}
	if c.Transactions <= 0 {
		c.Transactions = 20
	}
	if c.Spacing <= 0 {
		c.Spacing = 10 * time.Second
	}
	if !c.NoDefaultQoS && c.QoS == 0 {
		c.QoS = mqttsn.QoS1
	}
	if c.Distance <= 0 {
		c.Distance = 20
	}
	if c.SessionTx <= 0 {
		c.SessionTx = eval.DefaultSessionTx
	}
	if c.Settle <= 0 {
		c.Settle = 30 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run measures every scheme of cfg.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "lsmqtt-measure-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	var out []Result
	for i, s := range cfg.Schemes {
		r, err := runScheme(ctx, cfg, s, filepath.Join(dir, fmt.Sprintf("ts-%d-%s.db", i, s)))
		if err != nil {
			return out, fmt.Errorf("measure %s: %w", s, err)
		}
		out = append(out, r)
	}
	return out, nil
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// bench is one scheme's area and motes.
type bench struct {
	cfg      Config
	clk      *clock.Virtual
	drv      *vtime.Driver
	a        *area.Area
	pub, sub *mote.Mote
}

func runScheme(ctx context.Context, cfg Config, s eval.Scheme, registry string) (Result, error) {
	b := &bench{cfg: cfg, clk: clock.NewVirtual(epoch)}
	a, err := area.Start(ctx, area.Config{UDP: cfg.UDP, Mesh: !cfg.UDP, TS: true, RegistryPath: registry,
		AllowInsecure: s == eval.PaperXOR, MediumConfig: medium.Config{Seed: cfg.Seed + 1}, Clock: b.clk,
		Logger: cfg.Logger})
	if err != nil {
		return Result{}, err
	}
	defer a.Close()
	b.a = a
	b.drv = &vtime.Driver{Clock: b.clk, Busy: b.busy, Activity: b.activity}
	pubCreds, err := a.RegisterNode("z1-pub", "1")
	if err != nil {
		return Result{}, err
	}
	subCreds, err := a.RegisterNode("z1-sub", "2")
	if err != nil {
		return Result{}, err
	}
	reader, err := a.Registry.RegisterCaregiver("z1-sub-reader")
	if err != nil {
		return Result{}, err
	}
	if err := a.Registry.Grant("z1-sub-reader", "1"); err != nil {
		return Result{}, err
	}
	readerCreds := &tsclient.Credentials{Name: reader.Name, Kind: string(reader.Kind), PSS: append([]byte(nil), reader.PSS...)}
	reader.Wipe()
	if b.pub, err = b.mote(1, pubCreds, nil, medium.Position{X: cfg.Distance}, string(s)); err != nil {
		return Result{}, err
	}
	defer b.pub.Close()
	if b.sub, err = b.mote(2, subCreds, readerCreds, medium.Position{X: -cfg.Distance}, string(s)); err != nil {
		return Result{}, err
	}
	defer b.sub.Close()
	return b.measure(ctx, s)
}

func (b *bench) mote(n int, creds, reader *tsclient.Credentials, pos medium.Position, suite string) (*mote.Mote, error) {
	var tr mote.Transport
	if b.cfg.UDP {
		t, err := mote.DialUDP(b.a.UDPAddr(), mote.DefaultLinkModel())
		if err != nil {
			return nil, err
		}
		tr = t
	} else {
		mac := ieee802154.ExtAddr{0x02, 0, 0, 0x01, 0, 0, 0, byte(n)}
		port, err := b.a.Medium.Attach(ieee802154.Ext(mac), uint16(n))
		if err != nil {
			return nil, err
		}
		b.a.Medium.SetPosition(ieee802154.Ext(mac), pos)
		t, err := mote.NewMeshTransport(mote.MeshConfig{Addr: mac, Radio: port, Clock: b.clk, Seed: b.cfg.Seed + uint64(n)})
		if err != nil {
			port.Close()
			return nil, err
		}
		tr = t
	}
	m, err := mote.New(mote.Config{Creds: creds, ReaderCreds: reader, Transport: tr, Clock: b.clk, Manual: true,
		Profile: b.cfg.Profile, Suite: suite, RoutineQoS: b.cfg.QoS, NoDefaultQoS: true, AlarmQoS: mqttsn.QoS1,
		Seed: b.cfg.Seed + uint64(n), Logger: b.cfg.Logger, IgnoreOverheard: !b.cfg.CountOverheard})
	if err != nil {
		tr.Close()
		return nil, err
	}
	return m, nil
}

func (b *bench) busy() bool {
	if b.pub.Busy() || b.sub.Busy() {
		return true
	}
	if !b.cfg.UDP {
		return false
	}
	s1, r1 := b.pub.Datagrams()
	s2, r2 := b.sub.Datagrams()
	g := b.a.Gateway.Stats()
	return s1+s2 > g.MessagesIn || g.MessagesOut > r1+r2
}

func (b *bench) activity() uint64 {
	s1, r1 := b.pub.Datagrams()
	s2, r2 := b.sub.Datagrams()
	return s1 + r1 + s2 + r2
}

// quiet: nothing of either mote is in flight (frames on the medium,
// datagrams in sockets).
func (b *bench) quiet() bool {
	if b.cfg.UDP {
		return !b.busy()
	}
	for _, m := range []*mote.Mote{b.pub, b.sub} {
		tr := m.Transport().(*mote.MeshTransport)
		ns := b.a.Medium.Node(tr.Stack().LinkAddr())
		c := tr.Stack().Counters()
		if ns.TxFrames != c.TxFrames || ns.RxFrames != c.RxFrames+c.OverheardFrames {
			return false
		}
	}
	return true
}

func (b *bench) do(ctx context.Context, what string, f func(context.Context) error) error {
	if err := b.drv.Do(ctx, 2*time.Minute, f); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// transaction publishes once and waits until the subscriber has it and
// nothing is in flight.
func (b *bench) transaction(ctx context.Context) error {
	want := b.sub.Stats().Received + 1
	if err := b.do(ctx, "publish", b.pub.PublishVitals); err != nil {
		return err
	}
	ok, err := b.drv.Await(ctx, func() bool { return b.sub.Stats().Received >= want && b.quiet() }, time.Minute)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the subscriber did not get the message within a minute")
	}
	if st := b.sub.Stats(); st.ReceiveFailures > 0 {
		return fmt.Errorf("the subscriber could not open a message: %s", st.LastError)
	}
	return nil
}

func (b *bench) measure(ctx context.Context, s eval.Scheme) (Result, error) {
	cfg := b.cfg
	r := Result{Scheme: s}
	start := b.clk.Now()
	ready := func() bool { return b.pub.Transport().Ready() && b.sub.Transport().Ready() }
	if ok, err := b.drv.RunUntil(ctx, ready, 10*time.Minute); err != nil || !ok {
		return r, fmt.Errorf("motes not on the mesh after 10 minutes (%v)", err)
	}
	if !cfg.UDP {
		if err := b.drv.RunFor(ctx, cfg.Settle); err != nil {
			return r, err
		}
	}
	// A reading to publish, taken outside the windows.
	for _, m := range []*mote.Mote{b.pub, b.sub} {
		if err := b.do(ctx, "sample", m.SampleAll); err != nil {
			return r, err
		}
	}
	var (
		mu   sync.Mutex
		errs []error
		got  int
	)
	p0, s0 := b.pub.Snapshot(), b.sub.Snapshot()
	for _, step := range []struct {
		what string
		f    func(context.Context) error
	}{
		{"connect publisher", b.pub.Connect},
		{"connect subscriber", b.sub.Connect},
		{"subscribe", func(ctx context.Context) error {
			return b.sub.Subscribe(ctx, b.pub.Topic(mote.KindVitals), cfg.QoS, func(m mote.Received) {
				mu.Lock()
				defer mu.Unlock()
				if m.Err != nil {
					errs = append(errs, m.Err)
				}
				got++
			})
		}},
		{"fetch key", b.pub.FetchKey},
	} {
		if err := b.do(ctx, step.what, step.f); err != nil {
			return r, err
		}
	}
	if err := b.transaction(ctx); err != nil { // warm-up: the subscriber fetches the key
		return r, err
	}
	p1, s1 := b.pub.Snapshot(), b.sub.Snapshot()
	r.Setup = Transaction{p1.Sub(p0), s1.Sub(s0)}
	// The background: as long as the transaction window, with no
	// transactions (RPL maintenance, parent probes, idle floor).
	window := time.Duration(cfg.Transactions) * cfg.Spacing
	if err := b.drv.RunFor(ctx, window); err != nil {
		return r, err
	}
	p2, s2 := b.pub.Snapshot(), b.sub.Snapshot()
	r.Background = Transaction{p2.Sub(p1), s2.Sub(s1)}
	for range cfg.Transactions {
		t0 := b.clk.Now()
		pa, sa := b.pub.Snapshot(), b.sub.Snapshot()
		if err := b.transaction(ctx); err != nil {
			return r, err
		}
		if left := cfg.Spacing - b.clk.Since(t0); left > 0 {
			if err := b.drv.RunFor(ctx, left); err != nil {
				return r, err
			}
		}
		r.PerTx = append(r.PerTx, Transaction{b.pub.Snapshot().Sub(pa), b.sub.Snapshot().Sub(sa)})
	}
	p3, s3 := b.pub.Snapshot(), b.sub.Snapshot()
	r.EmulatedTime = b.clk.Since(start)
	r.Window = Transaction{p3.Sub(p2), s3.Sub(s2)}
	// Marginal energy of the transactions: the window minus the background
	// of the same length (Snapshot.Sub per state), so periodic routing
	// traffic is not charged to them.
	r.Run = eval.MeasuredRun{Scheme: s, Profile: cfg.Profile, Transactions: cfg.Transactions,
		Publisher: r.Window.Publisher.Sub(r.Background.Publisher), Subscriber: r.Window.Subscriber.Sub(r.Background.Subscriber)}
	// The two windows are equally long, so the difference spans (almost) no
	// time and eval's idle subtraction removes (almost) nothing more; a
	// subscriber delta of zero time would read as "no subscriber", so at
	// least one tick (about 9 nJ of idle floor) remains.
	r.Run.Publisher.Time = max(r.Run.Publisher.Time, 1)
	r.Run.Subscriber.Time = max(r.Run.Subscriber.Time, 1)
	r.BackgroundPowerMW = r.Background.Publisher.AveragePowerMW()
	f, err := eval.MeasuredFigures(r.Run)
	if err != nil {
		return r, err
	}
	setup, err := eval.MeasuredFigures(eval.MeasuredRun{Scheme: s, Profile: cfg.Profile,
		Publisher: r.Setup.Publisher, Subscriber: r.Setup.Subscriber, Transactions: 1})
	if err != nil {
		return r, err
	}
	f.SetupPublisher = sub(add(setup.Encrypt, setup.Transmit), add(f.Encrypt, f.Transmit))
	f.SetupSubscriber = sub(add(setup.Decrypt, setup.Receive), add(f.Decrypt, f.Receive))
	f.SessionTx = cfg.SessionTx
	f.IdlePowerMW = r.BackgroundPowerMW
	f.Frames = frameSizes(s)
	transport := fmt.Sprintf("the emulated 6LoWPAN/RPL mesh (one hop each, settled for %v)", cfg.Settle)
	if cfg.UDP {
		transport = "loopback UDP with frames estimated for a one-hop 6LoWPAN link"
	}
	f.Notes = append([]string(nil),
		fmt.Sprintf("measured: %d transactions in %v of emulated time, beside a background window as long", cfg.Transactions, window),
		fmt.Sprintf("measured over %s: publisher and subscribing mote, QoS %d, %d transactions %v apart", transport, cfg.QoS, cfg.Transactions, cfg.Spacing),
		overheardNote(cfg.CountOverheard),
		fmt.Sprintf("per-transaction energies are the window minus a background window of the same length without transactions; the idle power is that background (LPM, idle listening and routing upkeep: %.4f mW)", r.BackgroundPowerMW),
		fmt.Sprintf("setup measured separately (admission, TS key delivery to both motes, REGISTER, SUBSCRIBE) and spread over %d transactions", cfg.SessionTx))
	r.Figures = f
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		return r, fmt.Errorf("the subscriber could not open %d messages: %w", len(errs), errs[0])
	}
	if got != cfg.Transactions+1 {
		return r, fmt.Errorf("the subscriber got %d messages, want %d", got, cfg.Transactions+1)
	}
	return r, nil
}

func add(a, b eval.Component) eval.Component {
	return eval.Component{EnergyMJ: a.EnergyMJ + b.EnergyMJ, CPUTicks: a.CPUTicks + b.CPUTicks,
		TXTicks: a.TXTicks + b.TXTicks, RXTicks: a.RXTicks + b.RXTicks, Cycles: a.Cycles + b.Cycles,
		FramesTX: a.FramesTX + b.FramesTX, FramesRX: a.FramesRX + b.FramesRX,
		BytesTX: a.BytesTX + b.BytesTX, BytesRX: a.BytesRX + b.BytesRX}
}

func sub(a, b eval.Component) eval.Component {
	d := func(x, y uint64) uint64 { return x - min(x, y) }
	return eval.Component{EnergyMJ: a.EnergyMJ - b.EnergyMJ, CPUTicks: d(a.CPUTicks, b.CPUTicks),
		TXTicks: d(a.TXTicks, b.TXTicks), RXTicks: d(a.RXTicks, b.RXTicks), Cycles: d(a.Cycles, b.Cycles),
		FramesTX: d(a.FramesTX, b.FramesTX), FramesRX: d(a.FramesRX, b.FramesRX),
		BytesTX: d(a.BytesTX, b.BytesTX), BytesRX: d(a.BytesRX, b.BytesRX)}
}

// Source serves measured figures where there are some, and the fallback's
// (normally the modelled transaction, eval.NewModel) for the other schemes.
// A fallback's idle power is replaced by the measured background
// (BackgroundPowerMW, when set), which does not depend on the scheme, so
// lifetimes compare like with like.
type Source struct {
	Measured          eval.MeasuredSource
	Fallback          eval.Source
	BackgroundPowerMW float64
}

// NewSource builds a Source from results, falling back to fallback; the
// background power is the mean of the results'.
func NewSource(results []Result, fallback eval.Source) Source {
	ms := eval.MeasuredSource{}
	var bg float64
	for _, r := range results {
		ms[r.Scheme] = r.Figures
		bg += r.BackgroundPowerMW
	}
	src := Source{Measured: ms, Fallback: fallback}
	if len(results) > 0 {
		src.BackgroundPowerMW = bg / float64(len(results))
	}
	return src
}

// Figures implements eval.Source.
func (s Source) Figures(sc eval.Scheme) (eval.Figures, error) {
	if f, ok := s.Measured[sc]; ok {
		return f, nil
	}
	if s.Fallback == nil {
		return eval.Figures{}, fmt.Errorf("measure: %s was not measured", sc)
	}
	f, err := s.Fallback.Figures(sc)
	if err == nil && s.BackgroundPowerMW > 0 {
		f.IdlePowerMW = s.BackgroundPowerMW
		f.Notes = append(f.Notes, fmt.Sprintf("idle power: the measured background of the other schemes' runs (%.4f mW), as the scheme does not change it", s.BackgroundPowerMW))
	}
	return f, err
}

func overheardNote(counted bool) string {
	if counted {
		return "frames overheard from neighbours are charged as received (an always-listening radio)"
	}
	return "frames overheard from neighbours are not charged (a duty-cycled radio rarely catches them)"
}

// frameSizes are the one-hop frames (mote.DefaultLinkModel) of the
// transaction's messages: PUBLISH with the envelope (MQTT-SN v1.2 §5.4.12:
// 7 octets of header with a 2-octet topic id), PUBACK (7 octets), ACK.
func frameSizes(s eval.Scheme) eval.FrameSizes {
	lm := mote.DefaultLinkModel()
	tag := 0
	if as, err := aead.Lookup(string(s), aead.Options{AllowInsecure: true}); err == nil {
		tag = as.TagSize()
	}
	one := func(n int) int {
		fr := lm.Frames(nil, n)
		return fr[0]
	}
	pub := one(7 + envelope.HeaderLen + sensors.RecordLen + tag)
	ack := one(7)
	return eval.FrameSizes{PublishUp: pub, PubackDown: ack, PublishDown: pub, PubackUp: ack, Ack: energy.AckPSDUBytes}
}
