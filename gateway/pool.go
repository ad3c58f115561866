package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Broker calls that may block (QoS 1/2 publishes, subscribes, attach and
// detach) leave the read loop. Starting a goroutine for each of them cost a
// fresh 8 KiB stack that mochi's publish path then grew (runtime.newstack
// and copystack were ~10 % of a QoS 1 profile), and a context.WithTimeout per
// call another ~6 %. The pool below keeps finished workers waiting for the
// next call, so their stacks stay grown, and the deadline context is shared
// by the calls started within the same short slice of time.

// maxIdleBrokerWorkers bounds the workers kept waiting for a call; the
// number running at once is bounded by Config.MaxBrokerOps.
const maxIdleBrokerWorkers = 256

// brokerPool is the gateway's set of broker-call workers.
type brokerPool struct {
	work chan brokerCall // unbuffered: a send succeeds only when a worker waits
	idle atomic.Int32

	// afterCall, if set (by tests, with g.mu held), runs on the worker
	// after each call returned, before a slot still held is released.
	afterCall func()

	mu       sync.Mutex
	ctx      context.Context // shared deadline context; nil until the first call
	cancel   context.CancelFunc
	deadline time.Time
}

// deadlineSlack is the part of BrokerTimeout by which a shared deadline may
// come early: calls started within BrokerTimeout/deadlineSlack of each other
// share one context.
const deadlineSlack = 64

// opContext returns a context that ends at Close or about BrokerTimeout from
// now (at most BrokerTimeout/deadlineSlack earlier), shared with the calls
// started just before.
func (g *Gateway) opContext() context.Context {
	p := &g.pool
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil || p.deadline.Sub(now) < g.cfg.BrokerTimeout-g.cfg.BrokerTimeout/deadlineSlack {
		// The previous context is left to end at its own deadline: calls
		// still hold it. Its timer is the only thing it keeps.
		p.deadline = now.Add(g.cfg.BrokerTimeout)
		p.ctx, p.cancel = context.WithDeadline(g.ctx, p.deadline)
	}
	return p.ctx
}

// A brokerCall is one call for the pool: f, or answering for a call that
// answers a client.
type brokerCall struct {
	f         func(context.Context)
	answering func(ctx context.Context, answered func())
}

// goAnswering is goBroker for a call that answers a client (CONNACK,
// PUBACK, SUBACK...). It calls answered, on its own goroutine, once its
// broker calls are over and before the answer leaves: that gives its
// MaxBrokerOps slot back, so that the client's next message, sent on the
// answer, finds the slot free. A slot held until the call returned refused
// that message "rejected: congestion" at random while no broker call was in
// progress. Call with g.mu held.
func (g *Gateway) goAnswering(f func(ctx context.Context, answered func())) bool {
	return g.goPooled(brokerCall{answering: f})
}

// goPooled takes a MaxBrokerOps slot for c and runs it on a worker; it
// reports false (and runs nothing) when no slot is free or the gateway is
// closed. Call with g.mu held.
func (g *Gateway) goPooled(c brokerCall) bool {
	if g.closed || g.ops.Load() >= int64(g.cfg.MaxBrokerOps) {
		return false
	}
	g.ops.Add(1)
	if g.pool.work == nil {
		g.pool.work = make(chan brokerCall)
	}
	select {
	case g.pool.work <- c:
		return true
	default:
	}
	g.wg.Add(1)
	go g.brokerWorker(c)
	return true
}

// brokerWorker runs c, then waits for more calls until the gateway closes or
// enough workers already wait.
func (g *Gateway) brokerWorker(c brokerCall) {
	defer g.wg.Done()
	p := &g.pool
	w := &workerSlot{ops: &g.ops}
	answered := w.release // bound once per worker
	for {
		w.held = true
		if c.answering != nil {
			c.answering(g.opContext(), answered)
		} else {
			c.f(g.opContext())
		}
		if h := p.afterCall; h != nil {
			h()
		}
		w.release()
		if p.idle.Add(1) > maxIdleBrokerWorkers {
			p.idle.Add(-1)
			return
		}
		select {
		case c = <-p.work:
			p.idle.Add(-1)
		case <-g.ctx.Done():
			p.idle.Add(-1)
			return
		}
	}
}

// workerSlot is the MaxBrokerOps slot of the call a worker runs. Only the
// worker's goroutine touches it.
type workerSlot struct {
	ops  *atomic.Int64
	held bool
}

// release gives the slot back, once per call.
func (w *workerSlot) release() {
	if w.held {
		w.held = false
		w.ops.Add(-1)
	}
}
