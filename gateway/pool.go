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
	work chan func(context.Context) // unbuffered: a send succeeds only when a worker waits
	idle atomic.Int32

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

// runPooled runs f on an idle worker, or on a new one when none waits.
// Call with g.mu held, after goBroker's checks and g.ops.Add(1).
func (g *Gateway) runPooled(f func(context.Context)) {
	select {
	case g.pool.work <- f:
		return
	default:
	}
	g.wg.Add(1)
	go g.brokerWorker(f)
}

// brokerWorker runs f, then waits for more calls until the gateway closes or
// enough workers already wait.
func (g *Gateway) brokerWorker(f func(context.Context)) {
	defer g.wg.Done()
	p := &g.pool
	for {
		f(g.opContext())
		g.ops.Add(-1)
		if p.idle.Add(1) > maxIdleBrokerWorkers {
			p.idle.Add(-1)
			return
		}
		select {
		case f = <-p.work:
			p.idle.Add(-1)
		case <-g.ctx.Done():
			p.idle.Add(-1)
			return
		}
	}
}
