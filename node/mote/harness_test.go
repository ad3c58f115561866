package mote_test

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/vtime"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// env is one area on a virtual clock and its driver.
type env struct {
	t   *testing.T
	ctx context.Context
	clk *clock.Virtual
	drv *vtime.Driver
	a   *area.Area

	mu    sync.Mutex
	motes []*mote.Mote
}

func newEnv(t *testing.T, cfg area.Config) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clk: clock.NewVirtual(epoch)}
	cfg.Clock = e.clk
	if cfg.TS && cfg.RegistryPath == "" {
		cfg.RegistryPath = filepath.Join(t.TempDir(), "ts.db")
	}
	a, err := area.Start(e.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.a = a
	e.drv = &vtime.Driver{Clock: e.clk, Busy: e.busy, Activity: e.activity}
	t.Cleanup(func() {
		e.mu.Lock()
		ms := e.motes
		e.mu.Unlock()
		for _, m := range ms {
			m.Close()
		}
		a.Close()
	})
	return e
}

// busy: a mote is working, or datagrams are between the motes and the
// gateway (in a socket, invisible to the clock).
func (e *env) busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	var sent, recv uint64
	for _, m := range e.motes {
		if m.Busy() {
			return true
		}
		st := m.Stats().MQTTSN
		sent += st.DatagramsSent
		recv += st.DatagramsReceived
	}
	g := e.a.Gateway.Stats()
	return sent > g.MessagesIn || g.MessagesOut > recv
}

func (e *env) activity() uint64 {
	var n uint64
	if e.a.Medium != nil {
		n = e.a.Medium.Stats().Frames
	}
	st := e.a.Gateway.Stats()
	return n + st.MessagesIn + st.MessagesOut
}

func (e *env) add(m *mote.Mote) {
	e.mu.Lock()
	e.motes = append(e.motes, m)
	e.mu.Unlock()
}

func (e *env) register(name, group string) *tsclient.Credentials {
	e.t.Helper()
	c, err := e.a.RegisterNode(name, group)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// do runs f while driving the clock, failing the test on error.
func (e *env) do(what string, max time.Duration, f func(ctx context.Context) error) {
	e.t.Helper()
	start := e.clk.Now()
	if err := e.drv.Do(e.ctx, max, f); err != nil {
		var st []mote.Stats
		e.mu.Lock()
		for _, m := range e.motes {
			st = append(st, m.Stats())
		}
		e.mu.Unlock()
		e.t.Fatalf("%s: %v (after %v of emulated time; motes %+v; gateway %+v)", what, err, e.clk.Since(start), st, e.a.Gateway.Stats())
	}
}

// recorder is a PacketConn that records the size of every datagram it
// carries, below the mote's own accounting.
type recorder struct {
	net.PacketConn
	mu         sync.Mutex
	sent, recv []int
}

func (r *recorder) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := r.PacketConn.WriteTo(b, a)
	if err == nil {
		r.mu.Lock()
		r.sent = append(r.sent, len(b))
		r.mu.Unlock()
	}
	return n, err
}

func (r *recorder) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := r.PacketConn.ReadFrom(b)
	if err == nil {
		r.mu.Lock()
		r.recv = append(r.recv, n)
		r.mu.Unlock()
	}
	return n, a, err
}

func (r *recorder) sizes() (sent, recv []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.sent...), append([]int(nil), r.recv...)
}
