package gateway

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
)

// Batched socket I/O. A UDP socket is read with recvmmsg (batchio_linux.go):
// up to readBatch datagrams per system call into one preallocated slab, the
// senders' addresses parsed straight into netip.AddrPort, so a datagram costs
// neither a system call of its own nor an allocation. Each datagram is then
// handled in arrival order, on the reading goroutine or, under a backlog, on
// the worker its sender maps to: one client's messages are never reordered. Other PacketConns (a
// border router's conn) and other systems keep the plain ReadFrom loop.
// What the gateway sends on the socket while a batch is handled is gathered
// and written with one sendmmsg when the batch is done (replyBatcher).

const (
	// readBatch is the number of datagrams one recvmmsg may return.
	readBatch = 64
	// socketBuffer is the receive and send buffer a served UDP socket is
	// given when it has less (Linux caps it at net.core.rmem_max/wmem_max):
	// room for a burst of ~50k small datagrams while the gateway is busy.
	socketBuffer = 4 << 20
	// maxBatchedReply is the largest datagram gathered for sendmmsg; a
	// longer one is written at once.
	maxBatchedReply = 2048
)

// datagramBatch is what a batch reader returns: n datagrams, each a slice of
// the reader's slab (valid until the next read) and its sender.
type datagramBatch interface {
	// read blocks until at least one datagram arrived (or the read deadline
	// passed) and returns how many.
	read() (int, error)
	// datagram returns the i-th datagram of the last read and its sender.
	datagram(i int) ([]byte, netip.AddrPort)
}

// Spreading a backlog over both cores. When one read returns at least
// spreadAt datagrams the reader is falling behind; the datagrams of such a
// batch are then split by sender over readWorkers goroutines (the reader
// itself is worker 0) and the reader goes on reading into another of
// rxBatches slabs. A sender always maps to the same worker, and the reader
// handles a small batch itself only when no worker has anything left, so
// one client's datagrams are still handled in the order they arrived.
const (
	maxReadWorkers = 2
	spreadAt       = 8
	rxBatches      = 4
)

// rxBatch is one slab of datagrams being handled.
type rxBatch struct {
	r    datagramBatch
	n    int
	part [maxReadWorkers][]uint8 // datagram indices by worker
	refs atomic.Int32            // workers still handling it
}

// serveBatched is Serve's loop for a UDP socket read in batches; it reports
// false (having read nothing) when the socket cannot be read that way.
func (g *Gateway) serveBatched(ctx context.Context, c *servedConn) (bool, error) {
	size := g.cfg.MaxDatagram + 1
	first := newBatchReader(c.udp, readBatch, size)
	if first == nil {
		return false, nil
	}
	growSocketBuffers(c.udp, socketBuffer)
	workers := min(maxReadWorkers, runtime.GOMAXPROCS(0))
	free := make(chan *rxBatch, rxBatches)
	for i := 0; i < rxBatches; i++ {
		b := &rxBatch{r: first}
		if i > 0 {
			b.r = newBatchReader(c.udp, readBatch, size)
		}
		for w := range b.part {
			b.part[w] = make([]uint8, 0, readBatch)
		}
		free <- b
	}
	var outstanding atomic.Int32 // batches handed to workers and not yet done
	release := func(b *rxBatch) {
		if b.refs.Add(-1) == 0 {
			free <- b
		}
	}
	out := newReplyBatcher(c.udp, readBatch, min(g.cfg.MaxDatagram, maxBatchedReply))
	if out != nil {
		c.out.Store(out)
	}
	handle := func(b *rxBatch, w int) {
		if len(b.part[w]) == 0 {
			return
		}
		if out != nil {
			out.begin()
		}
		for _, i := range b.part[w] {
			d, ap := b.r.datagram(int(i))
			g.handleDatagram(d, peerKey{conn: c, ap: ap}, nil)
		}
		if out != nil {
			out.end() // one sendmmsg for the answers
		}
	}
	queues := make([]chan *rxBatch, workers)
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		queues[w] = make(chan *rxBatch, rxBatches)
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := range queues[w] {
				handle(b, w)
				outstanding.Add(-1)
				release(b)
			}
		}(w)
	}
	defer func() {
		for _, q := range queues[1:] {
			close(q)
		}
		wg.Wait()
	}()

	for {
		b := <-free
		n, err := b.r.read()
		b.n = n
		for w := range b.part {
			b.part[w] = b.part[w][:0]
		}
		if n < spreadAt && outstanding.Load() == 0 || workers == 1 {
			for i := 0; i < n; i++ {
				b.part[0] = append(b.part[0], uint8(i))
			}
		} else {
			for i := 0; i < n; i++ {
				_, ap := b.r.datagram(i)
				w := senderShard(ap, workers)
				b.part[w] = append(b.part[w], uint8(i))
			}
		}
		refs := int32(1)
		for w := 1; w < workers; w++ {
			if len(b.part[w]) > 0 {
				refs++
			}
		}
		b.refs.Store(refs)
		for w := 1; w < workers; w++ {
			if len(b.part[w]) > 0 {
				outstanding.Add(1)
				queues[w] <- b
			}
		}
		handle(b, 0)
		release(b)
		if err == nil {
			continue
		}
		if ctx.Err() != nil || g.ctx.Err() != nil {
			return true, nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue // a deadline someone else set; keep serving
		}
		return true, err
	}
}

// senderShard maps a sender to one of n workers.
func senderShard(ap netip.AddrPort, n int) int {
	a := ap.Addr().As16()
	h := uint32(ap.Port()) ^ uint32(a[12])<<8 ^ uint32(a[13])<<16 ^ uint32(a[14])<<24 ^ uint32(a[15])
	h *= 0x9E3779B1
	return int(h>>16) % n
}
