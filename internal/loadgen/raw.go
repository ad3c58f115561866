package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// RawConfig configures a raw UDP ceiling measurement. Zero fields take the
// defaults noted beside them.
type RawConfig struct {
	// Sink is where the sink socket binds; default "127.0.0.1:0". Use
	// "[::1]:0" to measure IPv6 loopback.
	Sink string
	// Senders is the number of sender sockets (default 1).
	Senders int
	// Workers is the number of goroutines driving the sender sockets
	// (default GOMAXPROCS minus Readers, at least 1).
	Workers int
	// Size is the UDP payload size in bytes (default 32).
	Size int
	// Rate is the total offered rate in datagrams/s; 0 sends unpaced.
	Rate float64
	// Duration bounds the send phase; Count bounds the number of datagrams in
	// total. At least one must be set; both may be.
	Duration time.Duration
	Count    int64
	// Batch is the number of datagrams per sendmmsg/recvmmsg (default 64).
	Batch int
	// SockBuf is the requested socket buffer size, both directions
	// (default 8 MiB; forced past net.core.rmem_max when permitted).
	SockBuf int
	// Readers is the number of goroutines reading the one sink socket
	// (default 1).
	Readers int
	// Drain is how long to wait at most, after the senders stop, for
	// datagrams still queued to reach the sink (default 1 s). The wait ends
	// sooner once the sink has everything or has been idle for 50 ms.
	Drain time.Duration
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

func (c *RawConfig) fill() error {
	if c.Sink == "" {
		c.Sink = "127.0.0.1:0"
	}
	if c.Senders <= 0 {
		c.Senders = 1
	}
	if c.Size <= 0 {
		c.Size = 32
	}
	if c.Size > 65507 {
		return fmt.Errorf("loadgen: raw datagram size %d exceeds the UDP maximum 65507", c.Size)
	}
	if c.Batch <= 0 {
		c.Batch = 64
	}
	if c.SockBuf <= 0 {
		c.SockBuf = 8 << 20
	}
	if c.Readers <= 0 {
		c.Readers = 1
	}
	if c.Workers <= 0 {
		c.Workers = max(1, runtime.GOMAXPROCS(0)-c.Readers)
	}
	if c.Drain <= 0 {
		c.Drain = time.Second
	}
	if c.Duration <= 0 && c.Count <= 0 {
		return errors.New("loadgen: raw mode needs a duration or a count")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// RawResult is what a raw measurement saw. The sink's receive rate is the
// machine's ceiling for datagrams of this size.
type RawResult struct {
	Host     Host    `json:"host"`
	Senders  int     `json:"senders"`
	Workers  int     `json:"workers"`
	Size     int     `json:"datagram_size"`
	Rate     float64 `json:"rate"` // requested, 0 = unpaced
	Offered  int64   `json:"offered"`
	Sent     int64   `json:"sent"`
	Received int64   `json:"received"`
	// SendErrors counts datagrams a sendmmsg call reported as not sent.
	SendErrors int64   `json:"send_errors"`
	LossPct    float64 `json:"loss_pct"`
	// SendSeconds is the send phase; ReceiveSeconds runs from the start to the
	// last datagram received.
	SendSeconds    float64  `json:"send_s"`
	ReceiveSeconds float64  `json:"receive_s"`
	OfferedPerSec  float64  `json:"offered_per_s"`
	SentPerSec     float64  `json:"sent_per_s"`
	ReceivedPerSec float64  `json:"received_per_s"`
	SinkBuffers    BufSizes `json:"sink_buffers"`
}

// Ceiling is the datagrams/s the sink received: the figure other results
// are stated against.
func (r *RawResult) Ceiling() float64 { return r.ReceivedPerSec }

// RunRaw measures the machine's UDP ceiling: cfg.Senders sockets send
// datagrams of cfg.Size bytes into one sink socket read with batch reads.
func RunRaw(ctx context.Context, cfg RawConfig) (*RawResult, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.Sink)
	if err != nil {
		return nil, fmt.Errorf("loadgen: raw sink address: %w", err)
	}
	sink, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: raw sink: %w", err)
	}
	defer sink.Close()
	res := &RawResult{Host: hostInfo(), Senders: cfg.Senders, Workers: cfg.Workers, Size: cfg.Size, Rate: cfg.Rate}
	res.SinkBuffers = setBuffers(sink, cfg.SockBuf, 0)
	saddr := sink.LocalAddr().(*net.UDPAddr)

	senders := make([]*net.UDPConn, 0, cfg.Senders)
	defer func() {
		for _, s := range senders {
			s.Close()
		}
	}()
	for range cfg.Senders {
		s, err := net.DialUDP("udp", nil, saddr)
		if err != nil {
			return nil, fmt.Errorf("loadgen: raw sender: %w", err)
		}
		setBuffers(s, 0, cfg.SockBuf)
		senders = append(senders, s)
	}
	cfg.Logger.Debug("raw: start", "sink", saddr, "senders", cfg.Senders, "size", cfg.Size,
		"rate", cfg.Rate, "duration", cfg.Duration, "count", cfg.Count, "rcvbuf", res.SinkBuffers.Rcv)

	// Sink readers.
	var received atomic.Int64
	var lastRecv atomic.Int64 // ns since start
	var readers sync.WaitGroup
	start := time.Now()
	for range cfg.Readers {
		readers.Go(func() { rawSink(newBatchConn(sink), cfg.Batch, cfg.Size, start, &received, &lastRecv) })
	}

	// Senders.
	limit := int64(-1)
	if cfg.Count > 0 {
		limit = cfg.Count
	}
	var stop atomic.Bool
	stopCh := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { stop.Store(true); close(stopCh) }) }
	if cfg.Duration > 0 {
		t := time.AfterFunc(cfg.Duration, halt)
		defer t.Stop()
	}
	defer context.AfterFunc(ctx, halt)()
	pacers := split(start, cfg.Rate, limit, cfg.Duration, cfg.Senders)
	var attempted, sent, sendErrs atomic.Int64
	var wg sync.WaitGroup
	for _, idx := range shard(cfg.Senders, cfg.Workers) {
		wg.Go(func() {
			a, n, e := rawDrive(senders, idx, pacers, cfg.Batch, cfg.Size, &stop, stopCh)
			attempted.Add(a)
			sent.Add(n)
			sendErrs.Add(e)
		})
	}
	wg.Wait()
	halt()
	sendEnd := time.Since(start)

	// Drain: wait for the sink to see everything, go idle, or time out.
	deadline := time.Now().Add(cfg.Drain)
	prev, idleSince := received.Load(), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
		cur := received.Load()
		if cur >= sent.Load() {
			break
		}
		if cur != prev {
			prev, idleSince = cur, time.Now()
		} else if time.Since(idleSince) > 50*time.Millisecond {
			break
		}
	}
	_ = sink.SetReadDeadline(time.Unix(1, 0))
	readers.Wait()
	// The readers are gone; whatever is still queued in the socket (readers
	// that were slow to be scheduled) is counted without waiting.
	_ = sink.SetReadDeadline(time.Time{})
	if n := drainQueued(newBatchConn(sink), cfg.Batch, cfg.Size); n > 0 {
		received.Add(n)
		lastRecv.Store(int64(time.Since(start)))
	}

	res.Sent = sent.Load()
	res.SendErrors = sendErrs.Load()
	res.Received = received.Load()
	res.Offered = attempted.Load()
	if cfg.Rate > 0 || limit >= 0 {
		var off int64
		for i := range pacers {
			off += pacers[i].offered()
		}
		res.Offered = off
	}
	res.SendSeconds = sendEnd.Seconds()
	res.ReceiveSeconds = time.Duration(lastRecv.Load()).Seconds()
	if res.Sent > 0 {
		res.LossPct = 100 * float64(res.Sent-res.Received) / float64(res.Sent)
	}
	offerSecs := res.SendSeconds
	if cfg.Rate > 0 && cfg.Duration > 0 {
		offerSecs = cfg.Duration.Seconds()
	}
	res.OfferedPerSec = rate(res.Offered, offerSecs)
	res.SentPerSec = rate(res.Sent, res.SendSeconds)
	res.ReceivedPerSec = rate(res.Received, res.ReceiveSeconds)
	cfg.Logger.Debug("raw: done", "sent", res.Sent, "received", res.Received, "ceiling", res.ReceivedPerSec)
	return res, nil
}

func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// rawDrive sends datagrams on the sockets idx of senders, each on its own
// schedule, until the schedules are exhausted or stop is set. It returns the
// datagrams attempted, sent, and reported unsent.
func rawDrive(senders []*net.UDPConn, idx []int, all []pacer, batch, size int, stopped *atomic.Bool, stop <-chan struct{}) (attempted, sent, errs int64) {
	buf := make([]byte, size)
	ms := make([]ipv4.Message, batch)
	for i := range ms {
		ms[i].Buffers = [][]byte{buf}
	}
	bcs := make([]batchConn, len(idx))
	ps := make([]pacer, len(idx))
	for j, i := range idx {
		bcs[j] = newBatchConn(senders[i])
		ps[j] = all[i]
	}
	d := &driver{pacers: ps, batch: int64(batch), stopped: stopped, stop: stop, send: func(j int, _, k int64) {
		n, err := bcs[j].WriteBatch(ms[:k], 0)
		n = max(n, 0)
		attempted += k
		sent += int64(n)
		if err != nil {
			errs += k - int64(n)
		}
	}}
	d.run()
	return attempted, sent, errs
}

// rawSink counts datagrams until the socket's read deadline passes.
func rawSink(bc batchConn, batch, size int, start time.Time, received, last *atomic.Int64) {
	ms := make([]ipv4.Message, batch)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, size+1)}
	}
	for {
		n, err := bc.ReadBatch(ms, 0)
		if n > 0 {
			received.Add(int64(n))
			now := int64(time.Since(start))
			for {
				old := last.Load()
				if now <= old || last.CompareAndSwap(old, now) {
					break
				}
			}
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}
}
