package mote

import (
	"net"
	"sync/atomic"
)

// Transport carries the mote's MQTT-SN datagrams and reports its frames to
// the mote's energy accounting. UDPTransport and MeshTransport implement it.
type Transport interface {
	// Conn is the mote's socket.
	Conn() net.PacketConn
	// Gateway is the gateway's address, or nil while it is not known yet
	// (a mesh node that has not joined a DODAG).
	Gateway() net.Addr
	// Ready reports whether datagrams can flow (a mesh node has joined).
	Ready() bool
	// Kind is "udp" or "mesh".
	Kind() string
	// Close releases the transport.
	Close() error

	attach(a *radioAccount)
	sync()
	// dutyCycled reports whether the radio sleeps between channel checks
	// and reports its listen time (a mesh stack with ChannelCheckInterval):
	// then that, not the profile's idle-listen model, is charged.
	dutyCycled() bool
	// notify installs the mote's hook, called (never under a lock the
	// transport holds) when the gateway may have changed: a mesh node is
	// Ready in a DODAG again, a UDP transport was pointed elsewhere.
	notify(f func())
}

// accountRef is where a transport finds the accounting once a mote attaches.
type accountRef struct{ p atomic.Pointer[radioAccount] }

func (r *accountRef) attach(a *radioAccount) { r.p.Store(a) }
func (r *accountRef) get() *radioAccount     { return r.p.Load() }
