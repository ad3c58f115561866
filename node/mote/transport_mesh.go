package mote

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/lsmqtt/lsmqtt/internal/clock"
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
}

// MeshTransport carries the mote's datagrams over the emulated 6LoWPAN/RPL
// mesh: its own rpl/stack node stack on a medium radio. Every frame the
// stack sends or hears is accounted through the stack's frame hook.
type MeshTransport struct {
	accountRef
	st   *stack.Stack
	conn *stack.UDPConn
	gw   netip.AddrPort

	mu      sync.Mutex
	unacked uint64 // MAC attempts without an ACK already accounted
}

// NewMeshTransport starts the mote's stack; it begins to solicit DIOs at
// once and is Ready when it has joined a DODAG.
func NewMeshTransport(cfg MeshConfig) (*MeshTransport, error) {
	t := &MeshTransport{gw: cfg.Gateway}
	sc := cfg.Stack
	sc.Addr, sc.Radio, sc.Clock, sc.Seed, sc.Logger = cfg.Addr, cfg.Radio, cfg.Clock, cfg.Seed, cfg.Logger
	sc.OnFrame = func(d stack.Dir, n int) {
		if a := t.get(); a != nil {
			a.frame(d, n)
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
	return t, nil
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
func (t *MeshTransport) Ready() bool {
	if _, ok := t.st.GlobalAddr(); !ok {
		return false
	}
	st := t.st.Status()
	return st.Joined && st.Stats.DAOAcked > 0
}

// Kind implements Transport.
func (t *MeshTransport) Kind() string { return "mesh" }

// Close implements Transport: it closes the socket and the stack (and so
// the radio).
func (t *MeshTransport) Close() error {
	t.conn.Close()
	return t.st.Close()
}

// sync accounts the unicast attempts that got no acknowledgement since the
// last call: each retry follows one, and so does each final failure.
func (t *MeshTransport) sync() {
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
