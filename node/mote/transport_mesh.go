package mote

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/rpl/border"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// MeshConfig configures a MeshTransport.
type MeshConfig struct {
	// Addr is the mote's EUI-64 (its MAC address and interface identifier).
	Addr ieee802154.ExtAddr
	// Radio is the mote's transceiver: a medium.Port (in-process medium) or
	// a medium.ZEPRadio (a medium process reached over ZEP/UDP).
	Radio medium.Radio
	Clock clock.Clock
	Seed  uint64
	// Stack tunes the node stack (MAC retries, queues, RPL); Addr, Radio,
	// Clock, Seed, Logger and OnFrame are filled in.
	Stack stack.Config
	// Gateway is the gateway's address in the mesh. Zero: the DODAG root
	// (the border router) on border.DefaultGatewayPort, once joined.
	Gateway netip.AddrPort
	// Port is the mote's UDP port (0: ephemeral).
	Port   uint16
	Logger *slog.Logger

	// Mobile tunes the stack for a mote that walks between areas (a
	// patient's), filling in what Stack leaves zero (MobileStack):
	// parent loss after one failed unicast, an acknowledgement wait near
	// macAckWaitDuration, a short DAO delay; and it runs RPL as a leaf.
	// RadioDelay is the medium's
	// delay per frame (medium.Config.Delay plus Jitter), added to the
	// acknowledgement wait.
	Mobile     bool
	RadioDelay time.Duration
}

// Mobile stack parameters (MeshConfig.Mobile). A patient's mote is a leaf
// one hop from its area's border router; what delays its rejoin after a
// move is how soon it gives up its old parent and how soon it tells the
// new root where it is.
const (
	// MobileParentFailThreshold: the first unicast that exhausts its
	// link-layer retransmissions drops the parent (the default, 2, spends a
	// second frame's retransmissions on a probe first). On a lossy link
	// this can detach a mote that did not move; it rejoins the same way.
	MobileParentFailThreshold = 1
	// MobileDAODelay: the DAO follows the join within 4–8 ms (RFC 6550
	// §9.5 leaves DelayDAO to the implementation; RPL-Lite's 1 s default
	// aggregates parent changes below a router, and a leaf has nobody
	// below it).
	MobileDAODelay = 8 * time.Millisecond
)

// MobileAckWait is the acknowledgement wait of a mobile mote on a medium
// with the given per-frame delay. IEEE 802.15.4-2006 §7.4.2 counts
// macAckWaitDuration (54 symbols, 864 µs: AckWaitDuration) from the end of
// the frame; rpl/stack starts its wait when it hands the frame to the
// radio, so the wait adds the longest frame's airtime (aMaxPHYPacketSize,
// 127 octets: 4.256 ms) and the medium's delay both ways: 5.12 ms on a
// medium without delay, against the stack's default of 20 ms.
func MobileAckWait(radioDelay time.Duration) time.Duration {
	return medium.Airtime(ieee802154.MaxPSDU) + AckWaitDuration + 2*radioDelay
}

// MobileStack returns sc with the mobile parameters filled in where sc
// leaves them zero, and RPL.Leaf set.
func MobileStack(sc stack.Config, radioDelay time.Duration) stack.Config {
	if sc.AckWait == 0 {
		sc.AckWait = MobileAckWait(radioDelay)
	}
	if sc.RPL.ParentFailThreshold == 0 {
		sc.RPL.ParentFailThreshold = MobileParentFailThreshold
	}
	if sc.RPL.DAODelay == 0 {
		sc.RPL.DAODelay = MobileDAODelay
	}

	// Nobody routes through a patient's mote: it joins as a leaf (RFC
	// 6550 §8.5), so it spends no frames on Trickle DIOs, which after a
	// move would come every few milliseconds from roots at RFC 6550's Imin.
	sc.RPL.Leaf = true
	return sc
}

// lateJoinCheck bounds the wait for a DAO-ACK counted before it was seen.
const lateJoinCheck = 10 * time.Second

// MeshTransport carries the mote's datagrams over the emulated 6LoWPAN/RPL
// mesh: its own rpl/stack node stack on a medium radio. Every frame the
// stack sends or hears is accounted through the stack's frame hook.
type MeshTransport struct {
	accountRef
	st   *stack.Stack
	conn *stack.UDPConn
	clk  clock.Clock
	gw   netip.AddrPort
	duty bool // the radio is duty-cycled (Stack.ChannelCheckInterval)

	mu      sync.Mutex
	unacked uint64 // MAC attempts without an ACK already accounted
	// The DAO-ACK count when the node joined its current DODAG (joins
	// counts the DODAGs joined): Ready once the new DODAG acknowledged a
	// DAO since.
	joins, ackedAtJoin uint64
	wasReady           bool
	onReady            func() // the mote's: told when Ready turns true

	// joining is set by OnJoin until Ready; while it is, every frame heard
	// kicks the watcher, which looks at the stack outside its lock.
	joining atomic.Bool
	kick    chan struct{}
	done    chan struct{}
	watched sync.WaitGroup
}

// NewMeshTransport starts the mote's stack; it begins to solicit DIOs at
// once and is Ready when it has joined a DODAG.
func NewMeshTransport(cfg MeshConfig) (*MeshTransport, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	t := &MeshTransport{gw: cfg.Gateway, clk: cfg.Clock, kick: make(chan struct{}, 1), done: make(chan struct{})}
	sc := cfg.Stack
	if cfg.Mobile {
		sc = MobileStack(sc, cfg.RadioDelay)
	}
	sc.Addr, sc.Radio, sc.Clock, sc.Seed, sc.Logger = cfg.Addr, cfg.Radio, cfg.Clock, cfg.Seed, cfg.Logger
	sc.OnFrame = func(d stack.Dir, n int) {
		if a := t.get(); a != nil {
			a.frame(d, n)
		}
		if d == stack.Rx && t.joining.Load() {
			t.poke()
		}
	}
	if sc.ChannelCheckInterval > 0 {
		t.duty = true
		userListen := sc.OnListen
		sc.OnListen = func(d time.Duration) {
			if a := t.get(); a != nil {
				a.listen(d)
			}
			if userListen != nil {
				userListen(d)
			}
		}
	}
	userJoin := sc.OnJoin
	sc.OnJoin = func(root, addr netip.Addr) {
		t.joining.Store(true)
		t.poke()
		if userJoin != nil {
			userJoin(root, addr)
		}
	}
	st, err := stack.New(sc)
	if err != nil {
		return nil, err
	}
	conn, err := st.ListenUDP(cfg.Port)
	if err != nil {
		st.Close()
		return nil, err
	}
	t.st, t.conn = st, conn
	t.watched.Add(1)
	go t.watch()
	return t, nil
}

// poke wakes the watcher; it runs under the stack's lock, so it only
// signals.
func (t *MeshTransport) poke() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// watch notes the DAO-ACK count of every DODAG the node joins (a DAO goes
// out no sooner than DAODelay/2 after the join, RFC 6550 §9.5, so the count
// taken here precedes its acknowledgement) and tells the mote when the node
// is Ready in it.
func (t *MeshTransport) watch() {
	defer t.watched.Done()
	for {
		select {
		case <-t.done:
			return
		case <-t.kick:
		}
		if t.Ready() {
			t.joining.Store(false)
		}
	}
}

// Stack returns the mote's network stack (counters, RPL status).
func (t *MeshTransport) Stack() *stack.Stack { return t.st }

// Conn implements Transport.
func (t *MeshTransport) Conn() net.PacketConn { return t.conn }

// Gateway implements Transport: the configured gateway, else the DODAG
// root on the MQTT-SN port; nil before the mote has joined.
func (t *MeshTransport) Gateway() net.Addr {
	if t.gw.IsValid() {
		return net.UDPAddrFromAddrPort(t.gw)
	}
	root, ok := t.st.Root()
	if !ok {
		return nil
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(root, border.DefaultGatewayPort))
}

// Ready implements Transport: the mote has joined a DODAG, has a global
// address, and the root has acknowledged its DAO (so it has a route down
// to the mote, RFC 6550 §9.3).
//
// After a move the node has joined another DODAG: it is Ready again once
// that DODAG's root acknowledged a DAO.
func (t *MeshTransport) Ready() bool {
	_, global := t.st.GlobalAddr()
	st := t.st.Status()
	t.mu.Lock()
	if st.Stats.Joins != t.joins {
		t.joins, t.ackedAtJoin = st.Stats.Joins, st.Stats.DAOAcked
		if st.Stats.Joins <= 1 {
			t.ackedAtJoin = 0 // the first DODAG: every acknowledgement is its own
		}
	}
	// A count taken late (the watcher starved past the DAO-ACK) must not
	// leave the node waiting for the next DAO refresh, minutes away.
	late := st.Stats.DAOAcked > 0 && t.clk.Since(st.JoinedAt) > lateJoinCheck
	ready := global && st.Joined && (st.Stats.DAOAcked > t.ackedAtJoin || late)
	rose := ready && !t.wasReady
	t.wasReady = ready
	f := t.onReady
	t.mu.Unlock()
	if rose && f != nil {
		f()
	}
	return ready
}

// notify implements Transport: f is told (on the transport's goroutine)
// whenever the node becomes Ready, at first and after each move.
func (t *MeshTransport) notify(f func()) {
	t.mu.Lock()
	t.onReady = f
	t.mu.Unlock()
}

// Kind implements Transport.
func (t *MeshTransport) Kind() string { return "mesh" }

func (t *MeshTransport) dutyCycled() bool { return t.duty }

// ChannelCheckInterval is a profile's ContikiMAC channel-check interval
// (profile mac.channel_check_hz; 125 ms for the z1's 8 Hz), for
// MeshConfig.Stack.ChannelCheckInterval; 0 when the profile names no rate.
func ChannelCheckInterval(p *profile.Profile) time.Duration {
	if p == nil || p.MAC.ChannelCheckHz <= 0 {
		return 0
	}
	return time.Second / time.Duration(p.MAC.ChannelCheckHz)
}

// Close implements Transport: it closes the socket and the stack (and so
// the radio).
func (t *MeshTransport) Close() error {
	t.mu.Lock()
	select {
	case <-t.done:
	default:
		close(t.done)
	}
	t.mu.Unlock()
	t.watched.Wait()
	t.conn.Close()
	return t.st.Close()
}

// sync accounts the unicast attempts that got no acknowledgement since the
// last call: each retry follows one, and so does each final failure; and,
// duty-cycled, the listen time up to 10 ms ago (rpl/stack SettleListen;
// otherwise reported at the next frame or within a second).
func (t *MeshTransport) sync() {
	if t.duty {
		t.st.SettleListen()
	}
	c := t.st.Counters()
	n := c.MACRetries + c.MACTxFailed
	t.mu.Lock()
	d := n - min(n, t.unacked)
	t.unacked = max(n, t.unacked)
	t.mu.Unlock()
	if a := t.get(); a != nil {
		a.unacked(d)
	}
}
