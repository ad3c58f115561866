package border

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// DefaultGatewayPort is MQTT-SN's registered UDP port.
const DefaultGatewayPort = 1883

// Config configures a Router.
type Config struct {
	// Prefix is the area's /64.
	Prefix netip.Prefix
	// Addr is the router's EUI-64; its global address (the DODAGID) is
	// Prefix plus the IID of Addr.
	Addr  ieee802154.ExtAddr
	Radio medium.Radio
	Clock clock.Clock
	Seed  uint64
	// GatewayPort is the UDP port the gateway's PacketConn listens on
	// (DefaultGatewayPort when 0).
	GatewayPort uint16
	// Anycast lists further addresses the router answers on, e.g. one
	// address for "the gateway of whatever area I am in".
	Anycast []netip.Addr
	// RPL sets the DODAG parameters (Trickle, lifetimes, objective);
	// Root and Prefix are filled in.
	RPL dodag.Config
	// Stack tunes the router's stack (queues, reassembly buffers, OnFrame);
	// Addr, Radio, Clock, Seed, Logger and RPL are filled in.
	Stack  stack.Config
	Logger *slog.Logger
}

// Router is a border router.
type Router struct {
	st   *stack.Stack
	conn *stack.UDPConn
	addr netip.Addr
}

// New starts a border router: its DODAG forms at once.
func New(cfg Config) (*Router, error) {
	if !cfg.Prefix.IsValid() || !cfg.Prefix.Addr().Is6() || cfg.Prefix.Bits() > 64 {
		return nil, errors.New("border: need an IPv6 prefix of at most /64")
	}
	if cfg.GatewayPort == 0 {
		cfg.GatewayPort = DefaultGatewayPort
	}
	sc := cfg.Stack
	sc.Addr, sc.Radio, sc.Clock, sc.Seed, sc.Logger = cfg.Addr, cfg.Radio, cfg.Clock, cfg.Seed, cfg.Logger
	sc.RPL = cfg.RPL
	sc.RPL.Root = true
	sc.RPL.Prefix = cfg.Prefix.Masked()
	st, err := stack.New(sc)
	if err != nil {
		return nil, err
	}
	for _, a := range cfg.Anycast {
		st.AddAnycast(a)
	}
	conn, err := st.ListenUDP(cfg.GatewayPort)
	if err != nil {
		st.Close()
		return nil, err
	}
	addr, _ := st.GlobalAddr()
	return &Router{st: st, conn: conn, addr: addr}, nil
}

// PacketConn is the gateway's side: datagrams from nodes to the router's
// addresses on the gateway port, with the nodes' IPv6 addresses as peers.
func (r *Router) PacketConn() net.PacketConn { return r.conn }

// Addr is the router's global address (the DODAGID), where nodes send
// their MQTT-SN datagrams.
func (r *Router) Addr() netip.Addr { return r.addr }

// GatewayAddr is Addr with the gateway port.
func (r *Router) GatewayAddr() netip.AddrPort { return netip.AddrPortFrom(r.addr, r.conn.Port()) }

// Prefix is the area's prefix.
func (r *Router) Prefix() netip.Prefix { return r.st.Status().Prefix }

// Stack is the router's own network stack (for more sockets and counters).
func (r *Router) Stack() *stack.Stack { return r.st }

// Status is the root's RPL state.
func (r *Router) Status() dodag.Status { return r.st.Status() }

// Routes lists the nodes the root can reach, with their hop counts.
func (r *Router) Routes() []dodag.Route { return r.st.Routes() }

// GlobalRepair increments the DODAG version (RFC 6550 §8.2.2.2).
func (r *Router) GlobalRepair() { r.st.WithRPL(func(d *dodag.DODAG) { d.GlobalRepair() }) }

// RefreshRoutes asks every node for a new DAO (DTSN increment).
func (r *Router) RefreshRoutes() { r.st.WithRPL(func(d *dodag.DODAG) { d.RefreshRoutes() }) }

// Close stops the router. It is idempotent.
func (r *Router) Close() error { return r.st.Close() }
