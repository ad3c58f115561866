package gateway

import (
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Handover metrics:
//
//	lsmqtt_gateway_handovers_total{direction="in"|"out", result="accepted"|<reason>}
//	lsmqtt_gateway_handover_duration_seconds{direction}  in: HO-RESUME to HO-RESUMED;
//	                                                     out: HO-FETCH (or push) to HO-CONFIRM
//	lsmqtt_gateway_handover_forwarded_total{direction}   late messages forwarded out / received
//	lsmqtt_gateway_peer_messages_total{direction, type}
//	lsmqtt_gateway_peer_drops_total{reason}
//
// Reasons are the HO-RESUMED / HO-REFUSE status names with spaces as
// underscores ("home_unreachable", "bad_token", ...).

// peerDropReason says why a peer datagram (or a node's handover message)
// was dropped.
type peerDropReason uint8

const (
	peerDropMalformed   peerDropReason = iota // not a well-formed peer message
	peerDropUnknownPeer                       // From names no configured peer
	peerDropForged                            // the MAC does not verify
	peerDropStale                             // Time outside the replay window
	peerDropReplay                            // nonce seen within the window
	peerDropUnexpected                        // authentic, but answers nothing outstanding
	peerDropNoSocket                          // no peer socket to send from
	peerDropSendError                         // the socket refused the datagram
	peerDropTooLarge                          // a message that cannot be encoded
	peerDropHeld                              // a node datagram held during a resume that failed
	peerDropForwardLost                       // a forward never acknowledged
	numPeerDrops
)

var peerDropNames = [numPeerDrops]string{"malformed", "unknown_peer", "forged", "stale", "replay",
	"unexpected", "no_socket", "send_error", "too_large", "held_dropped", "forward_lost"}

func (r peerDropReason) String() string {
	if r < numPeerDrops {
		return peerDropNames[r]
	}
	return "invalid"
}

type hoMetrics struct {
	handovers *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	forwarded *prometheus.CounterVec
	peerIn    *prometheus.CounterVec
	peerOut   *prometheus.CounterVec
	drops     [numPeerDrops]prometheus.Counter

	mu    sync.Mutex
	stats HandoverStats
}

// HandoverStats is a snapshot of a gateway's handover counters.
type HandoverStats struct {
	In, Out           uint64            // handovers completed into / out of this gateway
	Failed            map[string]uint64 // by "in/<reason>" and "out/<reason>"
	ForwardedOut      uint64            // late messages forwarded to the gateway now serving the node
	ForwardedIn       uint64            // late messages received from a previous home
	PeerDrops         map[string]uint64 // by reason
	LastInDuration    time.Duration     // the last completed handover in: HO-RESUME to HO-RESUMED
	TokensIssued      uint64
	SessionsPushedIn  uint64 // sessions a peer pushed here ahead of the node
	SessionsPushedOut uint64
}

func newHOMetrics(reg prometheus.Registerer) (*hoMetrics, error) {
	m := &hoMetrics{stats: HandoverStats{Failed: map[string]uint64{}, PeerDrops: map[string]uint64{}}}
	m.handovers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "handovers_total",
		Help: "Session handovers into and out of this gateway, by result (accepted or the failure reason).",
	}, []string{"direction", "result"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "handover_duration_seconds",
		Help:    "Handover duration: in, HO-RESUME to HO-RESUMED; out, HO-FETCH or push to HO-CONFIRM.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"direction"})
	m.forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "handover_forwarded_total",
		Help: "Messages that arrived for a node after its session left, forwarded out or received.",
	}, []string{"direction"})
	m.peerIn = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "peer_messages_in_total",
		Help: "Authenticated peer messages received, by type.",
	}, []string{"type"})
	m.peerOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "peer_messages_out_total",
		Help: "Peer messages sent, by type.",
	}, []string{"type"})
	drops := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "peer_drops_total",
		Help: "Peer datagrams dropped (forged, replayed, stale, unknown peer, ...) and handover failures on the peer path, by reason.",
	}, []string{"reason"})
	for _, c := range []prometheus.Collector{m.handovers, m.duration, m.forwarded, m.peerIn, m.peerOut, drops} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for r := peerDropReason(0); r < numPeerDrops; r++ {
		m.drops[r] = drops.WithLabelValues(r.String())
	}
	return m, nil
}

func statusLabel(s mqttsn.HOStatus) string {
	b := []byte(s.String())
	for i, c := range b {
		if c == ' ' {
			b[i] = '_'
		}
	}
	return string(b)
}

// handover counts a handover's end on one side.
func (m *hoMetrics) handover(dir string, st mqttsn.HOStatus, d time.Duration) {
	m.handovers.WithLabelValues(dir, statusLabel(st)).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	if st != mqttsn.HOAccepted {
		m.stats.Failed[dir+"/"+statusLabel(st)]++
		return
	}
	m.duration.WithLabelValues(dir).Observe(d.Seconds())
	if dir == "in" {
		m.stats.In++
		m.stats.LastInDuration = d
	} else {
		m.stats.Out++
	}
}

func (m *hoMetrics) count(f func(s *HandoverStats)) {
	m.mu.Lock()
	f(&m.stats)
	m.mu.Unlock()
}

func (h *handover) peerDrop(r peerDropReason) {
	h.m.drops[r].Inc()
	h.m.count(func(s *HandoverStats) { s.PeerDrops[r.String()]++ })
}

// peerDropf counts and logs a peer drop at debug level.
func (h *handover) peerDropf(r peerDropReason, from net.Addr, msg string, args ...any) {
	h.peerDrop(r)
	if h.g.log.Enabled(h.g.ctx, levelDebug) {
		a := "?"
		if from != nil {
			a = from.String()
		}
		h.g.log.Debug("peer drop: "+msg, append([]any{"reason", r.String(), "from", a}, args...)...)
	}
}

// HandoverStats returns the gateway's handover counters (zero without peering).
func (g *Gateway) HandoverStats() HandoverStats {
	if g.ho == nil {
		return HandoverStats{}
	}
	m := g.ho.m
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.Failed, s.PeerDrops = map[string]uint64{}, map[string]uint64{}
	for k, v := range m.stats.Failed {
		s.Failed[k] = v
	}
	for k, v := range m.stats.PeerDrops {
		s.PeerDrops[k] = v
	}
	return s
}
