package medium

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/pcap"
	"github.com/lsmqtt/lsmqtt/rpl/zep"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Unix(1_700_000_000, 0)

func ext(n byte) ieee802154.Address {
	return ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 0, n})
}

func frame(t testing.TB, seq uint8, dst, src ieee802154.Address, payload string) []byte {
	t.Helper()
	f := ieee802154.DataFrame(seq, 0xabcd, dst, src, []byte(payload), true)
	b, err := f.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rx collects what one port receives.
type rx struct {
	mu     sync.Mutex
	frames []string
	lqi    []uint8
}

func (r *rx) recv(psdu []byte, info RxInfo) {
	f, _, err := ieee802154.Decode(psdu)
	if err != nil {
		panic(err)
	}
	r.mu.Lock()
	r.frames = append(r.frames, string(f.Payload))
	r.lqi = append(r.lqi, info.LQI)
	r.mu.Unlock()
}

func (r *rx) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.frames...)
}

type net3 struct {
	clk   *clock.Virtual
	m     *Medium
	ports []*Port
	rxs   []*rx
}

// line places n nodes 40 m apart with range 50: each hears only its neighbours.
func line(t *testing.T, n int, cfg Config) *net3 {
	t.Helper()
	v := clock.NewVirtual(epoch)
	cfg.Clock = v
	if cfg.Range == 0 {
		cfg.Range = 50
	}
	m := New(cfg)
	w := &net3{clk: v, m: m}
	for i := 0; i < n; i++ {
		a := ext(byte(i + 1))
		p, err := m.Attach(a, uint16(i+1))
		if err != nil {
			t.Fatal(err)
		}
		r := &rx{}
		p.SetReceiver(r.recv)
		m.SetPosition(a, Position{X: float64(40 * i)})
		w.ports = append(w.ports, p)
		w.rxs = append(w.rxs, r)
	}
	t.Cleanup(func() { m.Close() })
	return w
}

func TestBroadcastReachesOnlyNodesInRange(t *testing.T) {
	w := line(t, 4, Config{})
	if err := w.ports[1].Transmit(frame(t, 1, ieee802154.Broadcast, ext(2), "hello")); err != nil {
		t.Fatal(err)
	}
	if len(w.rxs[0].got()) != 0 {
		t.Fatal("delivered synchronously, before any time passed")
	}
	w.clk.Advance(time.Second)
	want := [][]string{{"hello"}, nil, {"hello"}, nil}
	for i, r := range w.rxs {
		if got := r.got(); len(got) != len(want[i]) {
			t.Errorf("node %d got %v, want %v", i+1, got, want[i])
		}
	}
}

func TestUnicastHeardByAllInRange(t *testing.T) {
	w := line(t, 3, Config{})
	w.ports[1].Transmit(frame(t, 1, ext(3), ext(2), "to-3"))
	w.clk.Advance(time.Second)
	if len(w.rxs[0].got()) != 1 || len(w.rxs[2].got()) != 1 {
		t.Fatalf("unicast to node 3 heard by 1: %v, by 3: %v; radio should reach both", w.rxs[0].got(), w.rxs[2].got())
	}
}

func TestDelayIsAirtimePlusDelay(t *testing.T) {
	w := line(t, 2, Config{Delay: 5 * time.Millisecond})
	psdu := frame(t, 1, ieee802154.Broadcast, ext(1), "x")
	w.ports[0].Transmit(psdu)
	d := Airtime(len(psdu)) + 5*time.Millisecond
	w.clk.Advance(d - time.Microsecond)
	if len(w.rxs[1].got()) != 0 {
		t.Fatal("frame arrived before airtime+delay")
	}
	w.clk.Advance(time.Microsecond)
	if len(w.rxs[1].got()) != 1 {
		t.Fatal("frame not delivered at airtime+delay")
	}
}

func TestOrderKeptUnderJitter(t *testing.T) {
	w := line(t, 2, Config{Jitter: 20 * time.Millisecond, Seed: 3})
	var want []string
	for i := 0; i < 50; i++ {
		s := string(rune('A' + i%26))
		want = append(want, s)
		w.ports[0].Transmit(frame(t, uint8(i), ext(2), ext(1), s))
	}
	w.clk.Advance(time.Second)
	if got := w.rxs[1].got(); strings.Join(got, "") != strings.Join(want, "") {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestLossIsSeededAndNearConfigured(t *testing.T) {
	run := func(seed uint64) (uint64, string) {
		w := line(t, 2, Config{Loss: 0.2, Seed: seed})
		var pattern strings.Builder
		for i := 0; i < 2000; i++ {
			before := len(w.rxs[1].got())
			w.ports[0].Transmit(frame(t, uint8(i), ext(2), ext(1), "p"))
			w.clk.Advance(10 * time.Millisecond)
			if len(w.rxs[1].got()) > before {
				pattern.WriteByte('1')
			} else {
				pattern.WriteByte('0')
			}
		}
		s := w.m.Stats()
		return s.Links[0].Delivered, pattern.String()
	}
	d1, p1 := run(11)
	d2, p2 := run(11)
	_, p3 := run(12)
	if p1 != p2 || d1 != d2 {
		t.Fatal("same seed gave different loss patterns")
	}
	if p1 == p3 {
		t.Fatal("different seeds gave the same loss pattern")
	}
	if r := float64(d1) / 2000; math.Abs(r-0.8) > 0.04 {
		t.Fatalf("delivery ratio %.3f, want about 0.8", r)
	}
}

func TestDistanceDependentLoss(t *testing.T) {
	if p := diskProbability(0, 50, 0.5); p != 1 {
		t.Fatalf("p(0) = %v", p)
	}
	if p := diskProbability(25, 50, 0.5); p != 1-0.5*0.25 {
		t.Fatalf("p(R/2) = %v", p)
	}
	if p := diskProbability(50, 50, 0.5); p != 0.5 {
		t.Fatalf("p(R) = %v", p)
	}
	if p := diskProbability(50.1, 50, 0.5); p != 0 {
		t.Fatalf("p(beyond R) = %v", p)
	}
	w := line(t, 2, Config{EdgeLoss: 0.5, Seed: 1})
	w.m.SetPosition(ext(2), Position{X: 50})
	if p := w.m.LinkProbability(ext(1), ext(2)); p != 0.5 {
		t.Fatalf("LinkProbability at the edge = %v", p)
	}
	for i := 0; i < 1000; i++ {
		w.ports[0].Transmit(frame(t, uint8(i), ext(2), ext(1), "p"))
	}
	w.clk.Advance(time.Second)
	if n := len(w.rxs[1].got()); n < 430 || n > 570 {
		t.Fatalf("delivered %d/1000 at the edge with EdgeLoss 0.5", n)
	}
	for _, l := range w.rxs[1].lqi {
		if l != 127 {
			t.Fatalf("LQI %d, want 127 for p=0.5", l)
		}
	}
}

func TestMovingChangesLinks(t *testing.T) {
	w := line(t, 3, Config{})
	send := func() {
		w.ports[0].Transmit(frame(t, 1, ieee802154.Broadcast, ext(1), "m"))
		w.clk.Advance(time.Second)
	}
	send()
	if len(w.rxs[1].got()) != 1 || len(w.rxs[2].got()) != 0 {
		t.Fatal("initial topology wrong")
	}
	w.m.SetPosition(ext(1), Position{X: 100}) // now beside node 3, 60 m from node 2
	send()
	if len(w.rxs[1].got()) != 1 || len(w.rxs[2].got()) != 1 {
		t.Fatalf("after move: node2 %v node3 %v", w.rxs[1].got(), w.rxs[2].got())
	}
	w.m.Unplace(ext(1))
	send()
	if len(w.rxs[2].got()) != 1 {
		t.Fatal("unplaced node still heard")
	}
}

func TestExplicitLinks(t *testing.T) {
	w := line(t, 3, Config{Model: ModelLinks})
	w.m.SetLink(ext(1), ext(3), 1) // directed, and beyond disk range
	w.ports[0].Transmit(frame(t, 1, ieee802154.Broadcast, ext(1), "a"))
	w.ports[2].Transmit(frame(t, 1, ieee802154.Broadcast, ext(3), "b"))
	w.clk.Advance(time.Second)
	if len(w.rxs[2].got()) != 1 || len(w.rxs[1].got()) != 0 || len(w.rxs[0].got()) != 0 {
		t.Fatalf("links model: %v %v %v", w.rxs[0].got(), w.rxs[1].got(), w.rxs[2].got())
	}
	w.m.ClearLink(ext(1), ext(3))
	if w.m.LinkProbability(ext(1), ext(3)) != 0 {
		t.Fatal("cleared link still has probability in links model")
	}
}

func TestStatsPerLinkAndNode(t *testing.T) {
	w := line(t, 3, Config{})
	psdu := frame(t, 1, ieee802154.Broadcast, ext(2), "xyz")
	for i := 0; i < 3; i++ {
		w.ports[1].Transmit(psdu)
	}
	w.clk.Advance(time.Second)
	s := w.m.Stats()
	if s.Frames != 3 || s.Octets != uint64(3*len(psdu)) {
		t.Fatalf("frames %d octets %d", s.Frames, s.Octets)
	}
	if len(s.Links) != 2 {
		t.Fatalf("links %+v, want 2→1 and 2→3", s.Links)
	}
	for _, l := range s.Links {
		if l.From != ext(2) || l.Offered != 3 || l.Delivered != 3 || l.Ratio() != 1 {
			t.Fatalf("link %+v", l)
		}
	}
	n2 := w.m.Node(ext(2))
	if n2.TxFrames != 3 || n2.TxOctets != uint64(3*len(psdu)) || n2.RxFrames != 0 {
		t.Fatalf("node 2 stats %+v", n2)
	}
	if n1 := w.m.Node(ext(1)); n1.RxFrames != 3 {
		t.Fatalf("node 1 stats %+v", n1)
	}
}

func TestBadDatagramsCountedByReason(t *testing.T) {
	w := line(t, 2, Config{})
	ep := w.ports[0].ep
	bad := frame(t, 1, ieee802154.Broadcast, ext(1), "x")
	bad[len(bad)-1] ^= 0xff
	pkt := zep.Packet{Type: zep.TypeData, CRCMode: true, Frame: bad}
	datagram, _ := pkt.AppendBinary(nil)
	if err := w.m.ingest(ep, datagram); !errors.Is(err, ieee802154.ErrBadFCS) {
		t.Fatalf("bad FCS: err = %v", err)
	}
	if err := w.m.ingest(ep, []byte("EY\x02\x01")); !errors.Is(err, zep.ErrPreamble) {
		t.Fatalf("bad preamble: err = %v", err)
	}
	w.clk.Advance(time.Second)
	if len(w.rxs[1].got()) != 0 {
		t.Fatal("bad frames were delivered")
	}
	s := w.m.Stats()
	if s.Bad["802.15.4 FCS: bad FCS"] != 1 || len(s.Bad) != 2 || s.Frames != 0 {
		t.Fatalf("bad counters %v frames %d", s.Bad, s.Frames)
	}
}

type capture struct {
	frames [][]byte
	at     []time.Time
}

func (c *capture) WriteFrame(at time.Time, psdu []byte) error {
	c.frames = append(c.frames, bytes.Clone(psdu))
	c.at = append(c.at, at)
	return nil
}

func TestCaptureSeesEveryFrameOnce(t *testing.T) {
	c := &capture{}
	w := line(t, 3, Config{Capture: c})
	a := frame(t, 1, ieee802154.Broadcast, ext(2), "a")
	w.ports[1].Transmit(a)
	w.clk.Advance(time.Second)
	w.ports[0].Transmit(frame(t, 2, ext(2), ext(1), "b"))
	if len(c.frames) != 2 || !bytes.Equal(c.frames[0], a) || !c.at[1].Equal(epoch.Add(time.Second)) {
		t.Fatalf("captured %d frames at %v", len(c.frames), c.at)
	}
}

func TestCloseStopsDeliveries(t *testing.T) {
	w := line(t, 2, Config{})
	w.ports[0].Transmit(frame(t, 1, ieee802154.Broadcast, ext(1), "late"))
	w.m.Close()
	w.clk.Advance(time.Second)
	if len(w.rxs[1].got()) != 0 {
		t.Fatal("delivered after Close")
	}
	if err := w.ports[0].Transmit(frame(t, 1, ieee802154.Broadcast, ext(1), "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Transmit after Close: %v", err)
	}
	if _, err := w.m.Attach(ext(9), 9); !errors.Is(err, ErrClosed) {
		t.Fatalf("Attach after Close: %v", err)
	}
}

func TestPortCloseDetaches(t *testing.T) {
	w := line(t, 2, Config{})
	w.ports[1].Close()
	w.ports[1].Close()
	w.ports[0].Transmit(frame(t, 1, ieee802154.Broadcast, ext(1), "x"))
	w.clk.Advance(time.Second)
	if len(w.rxs[1].got()) != 0 {
		t.Fatal("closed port received")
	}
}

func TestTopologyFile(t *testing.T) {
	const doc = `{"model":"disk","range":30,"edge_loss":0.1,
	  "nodes":[{"addr":"02:00:00:00:00:00:00:01","x":0,"y":0},{"addr":"02:00:00:00:00:00:00:02","x":20,"y":0},
	           {"addr":"02:00:00:00:00:00:00:03","x":45,"y":0}],
	  "links":[{"from":"02:00:00:00:00:00:00:01","to":"02:00:00:00:00:00:00:03","p":0.5,"symmetric":true}]}`
	tf, err := ReadTopology(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	w := line(t, 3, Config{})
	if err := w.m.ApplyTopology(tf); err != nil {
		t.Fatal(err)
	}
	if c := w.m.Config(); c.Range != 30 || c.EdgeLoss != 0.1 || c.Model != ModelDisk {
		t.Fatalf("config after ApplyTopology: range %v edge loss %v", c.Range, c.EdgeLoss)
	}
	if p := w.m.LinkProbability(ext(1), ext(2)); math.Abs(p-(1-0.1*(20.0/30)*(20.0/30))) > 1e-9 {
		t.Fatalf("p(1,2) = %v", p)
	}
	if p := w.m.LinkProbability(ext(3), ext(1)); p != 0.5 {
		t.Fatalf("symmetric explicit link p(3,1) = %v", p)
	}
	if p := w.m.LinkProbability(ext(2), ext(3)); p != 1-0.1*(25.0/30)*(25.0/30) {
		t.Fatalf("p(2,3) = %v", p)
	}
	for _, bad := range []string{
		`{"model":"mesh"}`,
		`{"nodes":[{"addr":"02:00","x":0,"y":0}]}`,
		`{"links":[{"from":"0x0001","to":"0x0002","p":1.5}]}`,
		`{"unknown":1}`,
	} {
		if _, err := ReadTopology(strings.NewReader(bad)); !errors.Is(err, ErrTopology) {
			t.Errorf("ReadTopology(%s) err = %v, want ErrTopology", bad, err)
		}
	}
	if a, err := ParseAddr("0x00ff"); err != nil || a != ieee802154.Short(0xff) {
		t.Fatalf("ParseAddr short = %v, %v", a, err)
	}
}

func TestUDPTransport(t *testing.T) {
	m := New(Config{})
	defer m.Close()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- m.ServeUDP(ctx, conn, started) }()
	<-started
	maddr := conn.LocalAddr().(*net.UDPAddr)
	m.SetPosition(ext(1), Position{})
	m.SetPosition(ext(2), Position{X: 10})

	got := make(chan string, 4)
	radios := make([]*ZEPRadio, 2)
	for i := range radios {
		r, err := DialZEP(ZEPRadioConfig{Medium: maddr, DeviceID: uint16(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.SetReceiver(func(psdu []byte, _ RxInfo) {
			f, _, err := ieee802154.Decode(psdu)
			if err == nil {
				got <- f.Src.String() + ">" + string(f.Payload)
			}
		})
		radios[i] = r
	}
	// Node 2 announces itself first, so the medium learns its address.
	if err := radios[1].Transmit(frame(t, 1, ieee802154.Broadcast, ext(2), "hi")); err != nil {
		t.Fatal(err)
	}
	if err := radios[0].Transmit(frame(t, 1, ieee802154.Broadcast, ext(1), "hello")); err != nil {
		t.Fatal(err)
	}
	// Node 1 was not yet bound when node 2 spoke; it hears frames sent after.
	if s := <-got; s != ext(1).String()+">hello" {
		t.Fatalf("node 2 received %q", s)
	}
	radios[1].Transmit(frame(t, 2, ext(1), ext(2), "back"))
	if s := <-got; s != ext(2).String()+">back" {
		t.Fatalf("node 1 received %q", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ServeUDP returned %v", err)
	}
	if s := m.Stats(); s.Frames != 3 {
		t.Fatalf("medium carried %d frames, want 3", s.Frames)
	}
}

func TestPcapCapture(t *testing.T) {
	for _, format := range []CaptureFormat{CaptureWPAN, CaptureZEP} {
		var buf bytes.Buffer
		c, err := NewPcapCapture(&buf, format, 0)
		if err != nil {
			t.Fatal(err)
		}
		w := line(t, 2, Config{Capture: c})
		psdu := frame(t, 1, ieee802154.Broadcast, ext(1), "cap")
		w.ports[0].Transmit(psdu)
		w.ports[1].Transmit(psdu)
		r, err := pcap.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			ts, data, err := r.ReadPacket()
			if err != nil {
				break
			}
			n++
			if !ts.Equal(epoch) {
				t.Errorf("timestamp %v", ts)
			}
			switch format {
			case CaptureWPAN:
				if r.LinkType() != pcap.LinkTypeIEEE802154WithFCS || !bytes.Equal(data, psdu) {
					t.Errorf("wpan record %x", data)
				}
			case CaptureZEP:
				if r.LinkType() != pcap.LinkTypeIPv4 || len(data) < 28 {
					t.Fatalf("zep record %x", data)
				}
				p, _, err := zep.Decode(data[28:])
				if err != nil || !bytes.Equal(p.Frame, psdu) || p.Channel != DefaultChannel {
					t.Errorf("zep record decodes to %+v, %v", p, err)
				}
			}
		}
		if n != 2 {
			t.Fatalf("format %d: %d records, want 2", format, n)
		}
	}
	if _, err := ParseCaptureFormat("pcapng"); err == nil {
		t.Fatal("ParseCaptureFormat accepted pcapng")
	}
}
