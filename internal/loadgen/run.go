package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// runner holds what the clients of one run share.
type runner struct {
	cfg     *Config
	ctx     context.Context
	dgram   int // PUBLISH datagram size
	clients []*client

	connectLat, ackLat *Histogram

	stop     chan struct{} // closed when the publish phase must end
	stopOnce sync.Once
	stopped  atomic.Bool

	// CONNECT burst bookkeeping.
	connLeft      atomic.Int64
	connDone      chan struct{}
	firstTry      atomic.Bool
	answeredFirst atomic.Int64
	connCongested atomic.Int64 // CONNACKs "rejected: congestion" (retried)
	lastConnack   atomic.Int64

	// REGISTER bookkeeping.
	regLeft atomic.Int64
	regDone chan struct{}
}

func (r *runner) halt() {
	r.stopOnce.Do(func() {
		r.stopped.Store(true)
		close(r.stop)
	})
}

// connected is called by a reader on the first CONNACK of its client.
func (r *runner) connected(c *client, now int64) {
	if r.firstTry.Load() {
		r.connectLat.Record(time.Duration(now - c.connectAt.Load()))
		r.answeredFirst.Add(1)
		for {
			old := r.lastConnack.Load()
			if now <= old || r.lastConnack.CompareAndSwap(old, now) {
				break
			}
		}
	}
	if r.connLeft.Add(-1) == 0 {
		close(r.connDone)
	}
}

func (r *runner) registered() {
	if r.regLeft.Add(-1) == 0 {
		close(r.regDone)
	}
}

// Run drives an MQTT-SN gateway as cfg describes and reports what it saw.
// With raw non-nil it first measures the raw UDP ceiling (raw.Size and
// raw.Senders default to this run's datagram size and client count) and
// states every throughput as a fraction of it.
func Run(ctx context.Context, cfg Config, raw *RawConfig) (*Result, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	gw, err := net.ResolveUDPAddr("udp", cfg.Gateway)
	if err != nil {
		return nil, fmt.Errorf("loadgen: gateway address: %w", err)
	}
	res := &Result{Host: hostInfo(), Config: summarize(&cfg)}
	if raw != nil {
		rc := *raw
		if rc.Size <= 0 {
			rc.Size = cfg.DatagramSize()
		}
		if rc.Senders <= 0 {
			rc.Senders = cfg.Clients
		}
		if rc.Sink == "" && gw.IP.To4() == nil {
			rc.Sink = "[::1]:0"
		}
		if rc.Logger == nil {
			rc.Logger = cfg.Logger
		}
		if res.Raw, err = RunRaw(ctx, rc); err != nil {
			return nil, err
		}
	}

	r := &runner{cfg: &cfg, ctx: ctx, dgram: cfg.DatagramSize(), connectLat: new(Histogram), ackLat: new(Histogram),
		stop: make(chan struct{}), connDone: make(chan struct{}), regDone: make(chan struct{})}
	var readers sync.WaitGroup
	defer func() {
		for _, c := range r.clients {
			c.conn.Close()
		}
		readers.Wait()
	}()
	for i := range cfg.Clients {
		conn, err := net.DialUDP("udp", nil, gw)
		if err != nil {
			return nil, fmt.Errorf("loadgen: client %d socket (raise the open-files limit for many clients): %w", i, err)
		}
		setBuffers(conn, cfg.SockBuf, cfg.SockBuf)
		c := newClient(r, i, conn)
		r.clients = append(r.clients, c)
		readers.Go(c.readLoop)
	}
	cfg.Logger.Debug("bench: clients ready", "clients", cfg.Clients, "gateway", gw)

	ready := r.clients
	if cfg.QoS >= 0 { // QoS -1 publishes without a connection (§6.8)
		res.Connect = r.connectBurst(ctx)
		ready = filter(r.clients, func(c *client) bool { return c.conState.Load() == stAccepted })
		if cfg.TopicType == mqttsn.TopicIDNormal {
			res.Connect.Registered = r.registerAll(ctx, ready, &res.Connect.RegisterRetries)
			ready = filter(ready, func(c *client) bool { return c.regState.Load() == stAccepted })
		}
	}
	for _, c := range ready {
		switch cfg.TopicType {
		case mqttsn.TopicIDPredefined:
			c.topicID = cfg.TopicID
		case mqttsn.TopicIDShort:
			c.topicID, _ = mqttsn.ShortTopicID(cfg.Topic)
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(ready) == 0 {
		return res, errors.New("loadgen: no client is ready to publish (see the connect figures)")
	}

	var dl *deliveries
	var sub subscriber
	if cfg.SubMQTT != "" || cfg.SubMQTTSN {
		dl = newDeliveries(cfg.Clients, time.Now().Add(-time.Second).UnixNano())
		if cfg.SubMQTT != "" {
			sub, err = startMQTTSubscriber(ctx, &cfg, dl)
		} else {
			sub, err = startMQTTSNSubscriber(ctx, &cfg, gw, dl)
		}
		if err != nil {
			return res, err
		}
		defer sub.Close()
	}

	var before GatewayStats
	if cfg.GatewayStats != nil {
		before = cfg.GatewayStats()
	}
	res.Publish = r.publishPhase(ctx, ready, dl)
	if cfg.GatewayStats != nil {
		after := cfg.GatewayStats()
		p := &res.Publish
		p.GatewayIngested = after.PublishIn - before.PublishIn
		p.GatewayDrops = after.Drops - before.Drops
		p.GatewayIngestPerSec = rate(p.GatewayIngested, p.SendSeconds)
		if cpu := after.CPU - before.CPU; cpu > 0 {
			p.GatewayCPUSeconds = cpu.Seconds()
			p.GatewayCPUPerMsgUS = float64(cpu.Microseconds()) / float64(max(p.Sent, 1))
		}
	}
	if sub != nil {
		res.Publish.Subscriber = sub.String()
	}
	r.disconnectAll(ready)
	if res.Raw != nil {
		res.Ratios = ratios(res)
	}
	return res, nil
}

func filter(cs []*client, keep func(*client) bool) []*client {
	var out []*client
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// parallel runs f on every client from GOMAXPROCS goroutines, so a burst
// leaves the host as fast as it can.
func parallel(cs []*client, f func(*client)) {
	w := min(runtime.GOMAXPROCS(0), len(cs))
	var wg sync.WaitGroup
	for k := range w {
		wg.Go(func() {
			for i := k; i < len(cs); i += w {
				f(cs[i])
			}
		})
	}
	wg.Wait()
}

// waitPhase waits for done, d, or ctx.
func waitPhase(ctx context.Context, done <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// connectBurst sends every client's CONNECT at once (MQTT-SN v1.2 §6.2) and
// counts the CONNACKs, resending to the unanswered up to ConnectRetries times.
func (r *runner) connectBurst(ctx context.Context) *ConnectResult {
	cfg := r.cfg
	bufs := make([][]byte, len(r.clients))
	for i, c := range r.clients {
		m := mqttsn.Connect{CleanSession: true, Duration: uint16(cfg.KeepAlive / time.Second), ClientID: c.id}
		bufs[i], _ = m.AppendBinary(nil)
	}
	r.connLeft.Store(int64(len(r.clients)))
	r.firstTry.Store(true)
	var sendErrs atomic.Int64
	start := time.Now()
	parallel(r.clients, func(c *client) {
		c.conState.Store(stPending)
		c.connectAt.Store(nowNano())
		if _, err := c.conn.Write(bufs[c.idx]); err != nil {
			sendErrs.Add(1)
		}
	})
	sendDur := time.Since(start)
	waitPhase(ctx, r.connDone, cfg.ConnectTimeout)
	r.firstTry.Store(false)
	cr := &ConnectResult{Clients: len(r.clients), AnsweredFirst: r.answeredFirst.Load(),
		SendSeconds: sendDur.Seconds(), Latency: r.connectLat.Summary()}
	if last := r.lastConnack.Load(); last > 0 {
		cr.BurstSeconds = time.Duration(last - start.UnixNano()).Seconds()
	}
	for try := 0; try < cfg.ConnectRetries && r.connLeft.Load() > 0 && ctx.Err() == nil; try++ {
		for _, c := range r.clients {
			if c.conState.Load() == stPending {
				cr.Retries++
				if _, err := c.conn.Write(bufs[c.idx]); err != nil {
					sendErrs.Add(1)
				}
			}
		}
		waitPhase(ctx, r.connDone, cfg.ConnectTimeout)
	}
	for _, c := range r.clients {
		switch c.conState.Load() {
		case stAccepted:
			cr.Accepted++
		case stRejected:
			cr.Rejected++
		case stPending:
			if c.connCong.Load() { // congestion to the last resend
				cr.Rejected++
			}
		}
	}
	cr.Congestion = r.connCongested.Load()
	cr.Answered = int64(cr.Accepted + cr.Rejected)
	cr.SendErrors = sendErrs.Load()
	r.cfg.Logger.Debug("bench: connect burst", "answered_first", cr.AnsweredFirst, "accepted", cr.Accepted, "retries", cr.Retries)
	return cr
}

// registerAll registers each client's topic name (MQTT-SN v1.2 §6.5).
func (r *runner) registerAll(ctx context.Context, cs []*client, retries *int) int {
	if len(cs) == 0 {
		return 0
	}
	bufs := make([][]byte, len(cs))
	for i, c := range cs {
		c.topicName = []byte(r.cfg.clientTopic(c.idx))
		m := mqttsn.Register{MsgID: regMsgID, TopicName: c.topicName}
		bufs[i], _ = m.AppendBinary(nil)
	}
	r.regLeft.Store(int64(len(cs)))
	for i, c := range cs {
		c.regState.Store(stPending)
		_, _ = c.conn.Write(bufs[i])
	}
	waitPhase(ctx, r.regDone, r.cfg.RetryTimeout)
	for try := 0; try < r.cfg.MaxRetries && r.regLeft.Load() > 0 && ctx.Err() == nil; try++ {
		for i, c := range cs {
			if c.regState.Load() == stPending {
				*retries++
				_, _ = c.conn.Write(bufs[i])
			}
		}
		waitPhase(ctx, r.regDone, r.cfg.RetryTimeout)
	}
	n := 0
	for _, c := range cs {
		if c.regState.Load() == stAccepted {
			n++
		}
	}
	return n
}

// publishPhase runs the senders and waits for acknowledgements and
// deliveries.
func (r *runner) publishPhase(ctx context.Context, cs []*client, dl *deliveries) PublishResult {
	cfg := r.cfg
	limit := int64(-1)
	if cfg.Count > 0 {
		limit = cfg.Count
	}
	start, cpu0 := time.Now(), processCPU()
	pacers := split(start, cfg.Rate, limit, cfg.Duration, len(cs))
	if cfg.Duration > 0 {
		t := time.AfterFunc(cfg.Duration, r.halt)
		defer t.Stop()
	}
	stopWatch := context.AfterFunc(ctx, r.halt)
	defer stopWatch()
	for k, c := range cs {
		c.pidx = k
	}
	var wg sync.WaitGroup
	if cfg.QoS <= 0 {
		for _, idx := range shard(len(cs), cfg.Senders) {
			sub := make([]*client, len(idx))
			for j, i := range idx {
				sub[j] = cs[i]
			}
			wg.Go(func() { r.publishUnacked(sub, pacers) })
		}
	} else {
		for k, c := range cs {
			wg.Go(func() { c.publish(&pacers[k]) })
		}
	}
	wg.Wait()
	r.halt()

	pr := PublishResult{Clients: len(cs)}
	var lastSend, lastAck int64
	for _, c := range cs {
		c.mu.Lock()
		pr.Offered += c.offered
		pr.Sent += c.sent
		pr.SendErrors += c.sendErrs
		pr.Retransmissions += c.retrans.Load()
		pr.Acked += c.acked.Load()
		pr.Rejected += c.rejected.Load()
		pr.Congestion += c.congested.Load()
		pr.Lost += c.lost.Load()
		pr.DupAcks += c.dupAcks.Load()
		lastSend = max(lastSend, c.lastSend)
		c.mu.Unlock()
		lastAck = max(lastAck, c.lastAck.Load())
	}

	if dl != nil {
		// QoS 0 may lose messages, so a subscriber quiet for 500 ms has
		// seen all it will; at QoS 1/2 every acknowledged message is due
		// and a quiet spell (a slow or loaded host) is not a loss: wait
		// for it up to Drain.
		expect, idle := pr.Sent, min(cfg.Drain, 500*time.Millisecond)
		if cfg.QoS > 0 {
			expect, idle = pr.Acked, cfg.Drain
		}
		waitDeliveries(ctx, dl, expect, cfg.Drain, idle)
	}
	// Gateway traffic the clients did not expect is counted once the
	// drain is over.
	for _, c := range cs {
		pr.Unexpected += c.unexpected.Load()
		pr.Malformed += c.bad.Load()
		pr.GatewayDisconnects += c.gwDisconnects.Load()
		pr.SocketErrors += c.rcvErrs.Load()
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		pr.CPUSeconds, pr.WallSeconds = cpu.Seconds(), time.Since(start).Seconds()
		pr.CPUPerMsgUS = float64(cpu.Microseconds()) / float64(max(pr.Sent, 1))
	}
	t0 := start.UnixNano()
	pr.SendSeconds = secs(lastSend - t0)
	pr.SentPerSec = rate(pr.Sent, pr.SendSeconds)
	if cfg.QoS > 0 {
		pr.AckSeconds = secs(lastAck - t0)
		pr.AckedPerSec = rate(pr.Acked, pr.AckSeconds)
		pr.AckLatency = r.ackLat.Summary()
		pr.AckLossPct = pct(pr.Sent-pr.Acked, pr.Sent)
	}
	if dl != nil {
		d := dl.snapshot()
		pr.Delivered, pr.Duplicates, pr.DupFlagged, pr.Foreign = d.unique, d.dups, d.dupFlag, d.foreign
		pr.DeliverSeconds = secs(d.last - t0)
		pr.DeliveredPerSec = rate(pr.Delivered, pr.DeliverSeconds)
		pr.DeliveryLossPct = pct(pr.Sent-pr.Delivered, pr.Sent)
		pr.E2ELatency = dl.e2e.Summary()
	}
	return pr
}

func secs(ns int64) float64 {
	if ns <= 0 {
		return 0
	}
	return time.Duration(ns).Seconds()
}

func pct(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

// waitDeliveries waits until the subscriber has expect messages, has seen
// nothing new for idle, or drain has passed.
func waitDeliveries(ctx context.Context, dl *deliveries, expect int64, drain, idle time.Duration) {
	deadline := time.Now().Add(drain)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	prev, since := dl.count(), time.Now()
	for {
		n := dl.count()
		if n >= expect || time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		if n != prev {
			prev, since = n, time.Now()
		} else if time.Since(since) > idle {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
}

// disconnectAll says goodbye politely (§6.14); answers are not awaited.
func (r *runner) disconnectAll(cs []*client) {
	if r.cfg.QoS < 0 {
		return
	}
	var m mqttsn.Disconnect
	b, _ := m.AppendBinary(nil)
	for _, c := range cs {
		_, _ = c.conn.Write(b)
	}
}
