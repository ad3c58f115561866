package inproc

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/internal/loadgen"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// HandoverConfig configures RunHandover. The zero value is usable.
type HandoverConfig struct {
	// Moves is how many handovers are measured (default 200). The node
	// walks A → B → A → ... so every move is a resume at the other area.
	Moves int
	// QoS of the node's publish after each move: 0, 1 or 2 (`lsmqtt bench
	// --handover` asks for 1, as the nodes of node/hospital publish).
	QoS int
	// WaitForResumed makes the node publish only once HO-RESUMED arrived
	// (handoverclient.Config.WaitForResumed). By default it publishes right
	// behind HO-RESUME and the visited gateway holds the PUBLISH until the
	// session is installed.
	WaitForResumed bool
	// Timeout bounds each move's wait for its delivery (default 10 s).
	Timeout time.Duration
	// Logger receives the gateways' logs; nil discards them.
	Logger *slog.Logger
}

// HandoverResult is what RunHandover measured.
type HandoverResult struct {
	Moves     int `json:"moves"`
	Resumed   int `json:"resumed"`   // moves the visited gateway took over (HO-RESUMED accepted)
	Fallbacks int `json:"fallbacks"` // moves that fell back to a full connect
	// FallbackReasons counts the fallbacks by the visited gateway's
	// HO-RESUMED status (or why the node did not resume).
	FallbackReasons map[string]int `json:"fallback_reasons,omitempty"`
	Delivered       int            `json:"delivered"` // first messages that reached the new area's subscriber
	WrongArea       int            `json:"wrong_area"`
	QoS             int            `json:"qos"`
	WaitForResumed  bool           `json:"wait_for_resumed"`
	// ResumeToDelivery: the node's HO-RESUME leaving its socket → its first
	// message after the move arriving at the MQTT subscriber on the new
	// area's broker (the caregiver station).
	ResumeToDelivery loadgen.Latency `json:"resume_to_delivery"`
	// ResumeToResumed: HO-RESUME leaving → HO-RESUMED arriving at the node.
	ResumeToResumed loadgen.Latency `json:"resume_to_resumed"`
	Seconds         float64         `json:"seconds"`
}

// WriteText prints the result.
func (r *HandoverResult) WriteText(w io.Writer) error {
	var b strings.Builder
	mode := "publish right behind HO-RESUME"
	if r.WaitForResumed {
		mode = "publish after HO-RESUMED"
	}
	fmt.Fprintf(&b, "handover: %d moves between two in-process areas (gateway + peering + embedded broker each, loopback), QoS %d, %s\n",
		r.Moves, r.QoS, mode)
	fmt.Fprintf(&b, "  resumed %d, fell back to a full connect %d %v, first message delivered in the new area %d (elsewhere %d), %.1f s\n",
		r.Resumed, r.Fallbacks, r.FallbackReasons, r.Delivered, r.WrongArea, r.Seconds)
	l := r.ResumeToDelivery
	fmt.Fprintf(&b, "  HO-RESUME → first delivery at the new area's MQTT subscriber: p50 %.0f µs, p99 %.0f µs, max %.0f µs (n=%d)\n",
		l.P50US, l.P99US, l.MaxUS, l.N)
	l = r.ResumeToResumed
	fmt.Fprintf(&b, "  HO-RESUME → HO-RESUMED at the node:                          p50 %.0f µs, p99 %.0f µs, max %.0f µs (n=%d)\n",
		l.P50US, l.P99US, l.MaxUS, l.N)
	_, err := io.WriteString(w, b.String())
	return err
}

// hoArea is one area of RunHandover: a gateway with peering and its
// embedded broker, an MQTT-SN socket and a peer socket.
type hoArea struct {
	name string
	g    *gateway.Gateway
	e    *broker.Embedded
	sn   net.PacketConn
	peer net.PacketConn
}

// RunHandover measures session handover end to end: two areas in this
// process, each a gateway with peering in front of its own embedded broker,
// a caregiver station subscribed over MQTT on both brokers, and one node
// (handoverclient) that connects in area A and then moves back and forth.
// For each move it times, on the real clock, from the moment the node's
// HO-RESUME leaves its socket to the moment the station receives the node's
// first message after the move from the new area's broker.
func RunHandover(ctx context.Context, cfg HandoverConfig) (*HandoverResult, error) {
	if cfg.Moves <= 0 {
		cfg.Moves = 200
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.QoS < 0 || cfg.QoS > 2 {
		return nil, fmt.Errorf("inproc: handover QoS %d: want 0..2", cfg.QoS)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	areas, stop, err := startAreas(cfg.Logger, "area-a", "area-b")
	if err != nil {
		return nil, err
	}
	defer stop()

	const topic = "lsmqtt/handover/node-1"
	st := newStation()
	for _, a := range areas {
		if err := st.subscribe(ctx, a, topic); err != nil {
			st.close()
			return nil, err
		}
	}
	defer st.close()

	nc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	rc := &resumeConn{PacketConn: nc, sent: make(chan time.Time, 1)}
	n := handoverclient.New(rc, areas[0].sn.LocalAddr(), handoverclient.Config{
		Client:         client.Config{ClientID: "lsb-ho-node-1", KeepAlive: time.Hour},
		Topics:         []string{topic},
		WaitForResumed: cfg.WaitForResumed,
	})
	defer n.Close()
	cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	err = n.Connect(cctx)
	if err == nil {
		err = n.WaitToken(cctx)
	}
	cancel()
	if err != nil {
		return nil, fmt.Errorf("inproc: handover node: %w", err)
	}

	res := &HandoverResult{Moves: cfg.Moves, QoS: cfg.QoS, WaitForResumed: cfg.WaitForResumed}
	var toDelivery, toResumed loadgen.Histogram
	begin := time.Now()
	for i := 1; i <= cfg.Moves; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		to := areas[i%2]
		select {
		case <-rc.sent: // a retransmitted HO-RESUME of the move before
		default:
		}
		mctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		moved := make(chan handoverclient.Result, 1)
		go func() { moved <- n.Move(mctx, to.sn.LocalAddr()) }()
		var (
			t0    time.Time
			r     handoverclient.Result
			moveD bool // r is Move's result
		)
		select {
		case t0 = <-rc.sent:
		case r = <-moved: // a quick move can end before this select runs
			moveD = true
			select {
			case t0 = <-rc.sent:
			default:
			}
		}
		if t0.IsZero() { // no HO-RESUME at all (the node held no token): a full connect
			cancel()
			if r.Err != nil {
				return res, fmt.Errorf("inproc: move %d: %w", i, r.Err)
			}
			res.Fallbacks++
			continue
		}
		payload := []byte("seq=" + strconv.Itoa(i))
		want := st.expect(string(payload))
		perr := n.Publish(mctx, topic, mqttsn.QoS(cfg.QoS), false, payload)
		if !moveD {
			r = <-moved
		}
		if r.Resumed {
			res.Resumed++
			toResumed.Record(r.Took)
		} else {
			res.Fallbacks++
			if res.FallbackReasons == nil {
				res.FallbackReasons = map[string]int{}
			}
			res.FallbackReasons[r.Reason.String()]++
		}
		var got delivery
		select {
		case got = <-want:
		case <-mctx.Done():
		}
		cancel()
		switch {
		case perr != nil && ctx.Err() == nil:
			return res, fmt.Errorf("inproc: publish after move %d (resumed %v, %v, %v): %w", i, r.Resumed, r.Reason, r.Err, perr)
		case got.area == "":
			return res, fmt.Errorf("inproc: move %d: first message not delivered within %v", i, cfg.Timeout)
		case got.area != to.name:
			res.WrongArea++
		default:
			res.Delivered++
			if r.Resumed {
				toDelivery.Record(got.at.Sub(t0))
			}
		}
	}
	res.Seconds = time.Since(begin).Seconds()
	res.ResumeToDelivery = toDelivery.Summary()
	res.ResumeToResumed = toResumed.Summary()
	return res, nil
}

// startAreas starts one peered area per name; stop closes them all.
func startAreas(log *slog.Logger, names ...string) ([]*hoArea, func(), error) {
	var areas []*hoArea
	var cleanup []func()
	stop := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	fail := func(err error) ([]*hoArea, func(), error) { stop(); return nil, nil, err }
	for _, name := range names {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, func() { pc.Close() })
		areas = append(areas, &hoArea{name: name, peer: pc})
	}
	key := make([]byte, 32) // one pairwise key: there are two areas
	if _, err := rand.Read(key); err != nil {
		return fail(err)
	}
	for _, a := range areas {
		pcfg := &gateway.PeeringConfig{Name: a.name}
		for _, o := range areas {
			if o != a {
				pcfg.Peers = append(pcfg.Peers, gateway.Peer{Name: o.name, Addr: o.peer.LocalAddr().String(), Key: key})
			}
		}
		e, err := broker.NewEmbedded(broker.EmbeddedConfig{TCPAddr: "127.0.0.1:0"})
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, func() { e.Close() })
		g, err := gateway.New(gateway.Config{Registerer: prometheus.NewRegistry(), Peering: pcfg, Logger: log,
			AdvertiseInterval: -1}, e)
		if err != nil {
			return fail(err)
		}
		e.SetDeliver(g.Deliver)
		sn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			g.Close()
			return fail(err)
		}
		a.g, a.e, a.sn = g, e, sn
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = g.Serve(ctx, sn) }()
		go func() { defer wg.Done(); _ = g.ServePeers(ctx, a.peer) }()
		cleanup = append(cleanup, func() {
			cancel()
			g.Close()
			wg.Wait()
			sn.Close()
		})
	}
	return areas, stop, nil
}

// resumeConn is the node's socket; it reports when an HO-RESUME leaves.
type resumeConn struct {
	net.PacketConn
	sent chan time.Time
}

func (c *resumeConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if h, err := mqttsn.ReadHeader(b); err == nil && h.Type == mqttsn.TypeHOResume {
		select {
		case c.sent <- time.Now():
		default: // a retransmission: the first one's time stands
		}
	}
	return c.PacketConn.WriteTo(b, addr)
}

// station is the caregiver station: an MQTT subscriber on every area's
// broker that tells the waiting move when its message arrives.
type station struct {
	mu      sync.Mutex
	waiting map[string]chan delivery
	clients []*paho.Client
	conns   []net.Conn
}

type delivery struct {
	area string
	at   time.Time
}

func newStation() *station { return &station{waiting: map[string]chan delivery{}} }

// expect registers interest in the payload p before it is published.
func (s *station) expect(p string) <-chan delivery {
	ch := make(chan delivery, 1)
	s.mu.Lock()
	s.waiting[p] = ch
	s.mu.Unlock()
	return ch
}

func (s *station) arrived(area, p string) {
	at := time.Now()
	s.mu.Lock()
	ch := s.waiting[p]
	delete(s.waiting, p)
	s.mu.Unlock()
	if ch != nil {
		ch <- delivery{area: area, at: at}
	}
}

func (s *station) subscribe(ctx context.Context, a *hoArea, filter string) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", a.e.TCPAddr())
	if err != nil {
		return fmt.Errorf("inproc: station: %w", err)
	}
	name := a.name
	c := paho.NewClient(paho.ClientConfig{Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			s.arrived(name, string(pr.Packet.Payload))
			return true, nil
		}}})
	s.mu.Lock()
	s.clients, s.conns = append(s.clients, c), append(s.conns, conn)
	s.mu.Unlock()
	if _, err := c.Connect(dctx, &paho.Connect{ClientID: "station-" + name, CleanStart: true, KeepAlive: 600}); err != nil {
		return fmt.Errorf("inproc: station CONNECT %s: %w", name, err)
	}
	if _, err := c.Subscribe(dctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}); err != nil {
		return fmt.Errorf("inproc: station SUBSCRIBE %s: %w", name, err)
	}
	return nil
}

func (s *station) close() {
	s.mu.Lock()
	cl, conns := s.clients, s.conns
	s.mu.Unlock()
	for i, c := range cl {
		_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
		conns[i].Close()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
