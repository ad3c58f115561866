package gateway

import (
	"net"
	"net/netip"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// halfOpenAllowed applies Config.MaxHalfOpen to a CONNECT that would start a
// connect waiting on its client (the will flow, or admission by a real
// Authenticator), answering "rejected: congestion" (§6.2) beyond it. Every
// connect in progress counts against the bound, so a flood of half-open
// connects cannot take more than MaxHalfOpen of MaxClients' slots. Call with
// g.mu held.
func (g *Gateway) halfOpenAllowed(in *inbound, m *mqttsn.Connect) bool {
	if (g.open && !m.Will) || len(g.connecting) < g.cfg.MaxHalfOpen {
		return true
	}
	g.dropf(dropHalfOpen, in.key, "MaxHalfOpen reached", "client", string(m.ClientID))
	g.m.connects["congestion"].Inc()
	g.send(in.peer(), &mqttsn.Connack{ReturnCode: mqttsn.RejectedCongestion})
	return false
}

// Per-source CONNECT rate limit (Config.ConnectRate, ConnectBurst): a token
// bucket per source address (host, without the port) so that one host
// cannot churn the half-open connects that MaxClients bounds. A CONNECT over
// the limit is dropped without an answer (an answer would be reflected to a
// spoofed source) and counted as "connect_rate". The table of buckets is
// bounded by maxConnectSources: when full, buckets that have refilled are
// forgotten; if none has, the table starts afresh (the limit fails open
// rather than growing without bound).

const maxConnectSources = 65536

type connectBucket struct {
	tokens float64
	last   time.Time
}

// connectAllowed reports whether in's source may CONNECT now. Call with
// g.mu held.
func (g *Gateway) connectAllowed(in *inbound) bool {
	rate := g.cfg.ConnectRate
	if rate <= 0 {
		return true
	}
	src := connectSource(in.key)
	if !src.IsValid() {
		return true
	}
	burst := float64(g.cfg.ConnectBurst)
	now := g.clk.Now()
	if g.connectBuckets == nil {
		g.connectBuckets = make(map[netip.Addr]*connectBucket)
	}
	b := g.connectBuckets[src]
	if b == nil {
		if len(g.connectBuckets) >= maxConnectSources {
			g.sweepConnectBuckets(now, rate, burst)
		}
		b = &connectBucket{tokens: burst, last: now}
		g.connectBuckets[src] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		g.dropf(dropConnectRate, in.key, "CONNECT over the per-source rate")
		return false
	}
	b.tokens--
	return true
}

func (g *Gateway) sweepConnectBuckets(now time.Time, rate, burst float64) {
	for a, b := range g.connectBuckets {
		if b.tokens+now.Sub(b.last).Seconds()*rate >= burst {
			delete(g.connectBuckets, a)
		}
	}
	if len(g.connectBuckets) >= maxConnectSources {
		clear(g.connectBuckets)
	}
}

// connectSource is the host a CONNECT came from: the UDP source address,
// or the host part of another conn's address (a forwarder's clients share
// their forwarder's bucket).
func connectSource(k peerKey) netip.Addr {
	if k.ap.IsValid() {
		return k.ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(k.addr)
	if err != nil {
		host = k.addr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
